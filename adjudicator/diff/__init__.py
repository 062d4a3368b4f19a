"""Comparing two runs line by line (``adjudicate diff``).

Modules: ``runs`` (``diff_runs``, the entry point), ``sides`` (a run's side: its results and rejects by key, its
slice, its spill), ``compare`` (what changed for each key; the partitioned comparison), ``aligned`` (the fast path
for two aligned runs), ``summary`` (the summary, its matrix and its terminal text), ``explain`` (the rule tables
that differ, and the lines compared reconciled with the lines each run read).
"""
