"""Fixtures for the readers' tests: none beyond tests/conftest.py."""
