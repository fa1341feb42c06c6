"""IPM projects service: improvement projects and the benefits they plan."""
