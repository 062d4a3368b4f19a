"""The HTML report of a run (from its manifest) and of a diff (from its summary)."""
