"""The HTML report of a run (from its manifest) and of a diff (from its summary), and a run's terminal summary.

Modules: ``run_report`` (a run's report), ``diff_report`` (a diff's report), ``diff_lines`` (its sections drawn
from the changed lines), ``rewrite`` (``adjudicate report``), ``charts`` (Vega-Lite specs rendered to SVG, colours,
the renderer's warm-up), ``html`` (escaping, tables, sections, the page), ``terminal`` (the summary ``adjudicate
run`` prints).
"""
