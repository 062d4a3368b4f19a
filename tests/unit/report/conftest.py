"""Fixtures for the reports' tests: none beyond tests/conftest.py."""
