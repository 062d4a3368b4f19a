"""Shared test helpers by subject (imported by test modules; never a test module itself):

- claim_lines: random claim lines for property tests
- diff_runs: runs to diff and what a diff shows
- golden: the golden outputs as text
- report_page: a report read back from its markup (ids, links, figures, tables, charts' marks)
- rule_tables: broken rule tables and appending a table line

Frames from inline rows, running the engine in memory and the repository paths live in tests/helpers.py.
"""
