"""Fixtures for the benchmark suite's tests: none beyond tests/conftest.py."""
