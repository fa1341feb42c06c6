"""The demo: ten years of the City of Philadelphia's General Fund revenue through IPM."""
