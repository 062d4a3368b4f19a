"""Reading claim files into the raw frame of ``adjudicator.contract``: path checks, layout specs and detection,
the canonical, tabular and X12 readers, payers, the claims list of a slice, and diagnosis of a failed read."""
