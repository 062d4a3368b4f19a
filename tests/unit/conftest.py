"""Unit tests, one folder per package of adjudicator/ (top-level modules here); fixtures shared by all of them
live in tests/conftest.py."""
