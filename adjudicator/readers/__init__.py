"""Reading claim files into the raw frame of ``adjudicator.contract``: path checks, layout specs and detection,
the canonical, tabular and X12 readers, payers, the claims list of a slice, and diagnosis of a failed read.

Modules: ``specs`` (the layout spec's values and the ``--layout`` names), ``catalog`` (``LAYOUT_SPECS``, the
declared layouts), ``normalize`` (the normalisers), ``paths`` (arguments to checked files, glob expansion),
``detect`` (a file's layout from its first bytes), ``mapping`` (canonical columns from source columns),
``tabular`` (delimited text layouts), ``x12`` (837P interchanges), ``canonical`` (canonical CSV and Parquet),
``redelivery`` (superseded CCLF deliveries), ``payers`` (aliases and ``--payer``), ``scan`` (``scan_layout``,
the entry point), ``inputs`` (a run's inputs read), ``describe`` (docs/layouts.md's blocks), ``diagnose``
(explaining a failed read), ``claims_list`` (the ``--claims`` list of a slice).
"""
