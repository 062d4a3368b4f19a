"""Fixtures for the rule tables' tests: none beyond tests/conftest.py (``rules``, ``rules_copy``)."""
