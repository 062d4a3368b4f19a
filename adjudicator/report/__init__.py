"""The HTML report of a run (from its manifest) and of a diff (from its summary), and a run's terminal summary.

Modules: ``run_report`` (a run's report: headline, determinations, edits, top claims, rejects), ``run_flagged`` (its
flagged-only views: trend, payers, policies), ``run_audit`` (its audit trail), ``diff_report`` (a diff's report),
``diff_lines`` (its sections drawn from the changed lines), ``rewrite`` (``adjudicate report``), ``charts``
(Vega-Lite specs rendered to SVG, colours, the renderer's warm-up), ``html`` (escaping, tables, cards, sections, the
page), ``labels`` (plain-language labels of the codes), ``terminal`` (the summary ``adjudicate run`` prints).
"""
