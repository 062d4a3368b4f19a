"""Fixtures for the publishing steps' tests: none beyond tests/conftest.py."""
