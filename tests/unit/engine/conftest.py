"""Fixtures for the engine's tests: none beyond tests/conftest.py (``rules``)."""
