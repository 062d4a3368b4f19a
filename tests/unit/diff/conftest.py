"""Fixtures for the diff's tests: none beyond tests/conftest.py."""
