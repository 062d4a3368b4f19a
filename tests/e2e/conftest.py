"""Whole runs: through the command line (``main(["run", ...])``, ``python -m adjudicator``) or ``adjudicate``, and
whole diffs. Every module here sets ``pytestmark = pytest.mark.e2e``; the rule tables are checked in-process
(tests/conftest.py), except in tests/e2e/test_rules_check.py, the helper's own tests."""
