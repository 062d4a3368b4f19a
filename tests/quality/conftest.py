"""Fixtures for the quality checks (ruff, mypy; the layering and cycle checks to come): none yet."""
