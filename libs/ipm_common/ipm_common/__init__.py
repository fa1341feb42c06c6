"""Shared library of the IPM services."""
