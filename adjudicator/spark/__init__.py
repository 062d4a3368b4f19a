"""The Spark engine: the embedded engine's own readers, prepass functions and batch function, run inside Spark
tasks (needs the 'spark' extra; imported only when a run asks for it).

Modules: ``run`` (a run on Spark, a notebook's DataFrame, the session), ``reading`` (work items read in tasks),
``narrow`` (a run's facts from a narrow pass, assembled on the driver), ``facts`` (the facts of a notebook's
DataFrame), ``tasks`` (the adjudication task and its totals), ``types`` (the Spark plan's columns and types).
"""
