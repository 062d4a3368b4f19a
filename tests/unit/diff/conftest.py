"""Fixtures for the diff's unit tests: none beyond tests/conftest.py."""
