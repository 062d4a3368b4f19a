"""adjudicator: batch adjudication of work hardening claim lines against date-ranged policies and plans.

The public surface is small: ``adjudicate`` (one run of files into OUT, returns its
manifest), ``adjudicate_frame`` (one run of a polars frame in memory, writing no file; returns a
``FrameRun``: results, rejects and the manifest), ``RunOptions``, ``load_rules``
(returns a ``RuleSet``) and the ``adjudicate`` command line. They are
imported on first use, so importing a light module (``adjudicator.embedded.tuning``)
does not import polars and pandera.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

# before anything heavy: it notes when the process imported the package (a run's start-up is measured from there)
from adjudicator.about import DISTRIBUTION, __version__

#: SPARK_LOCAL_IP as this process found it: pandera sets it to 127.0.0.1 on import whenever pyspark is
#: installed, which would bind a Spark driver started here to the loopback (``adjudicator.spark.run.session``)
SPARK_LOCAL_IP_AT_START = os.environ.get("SPARK_LOCAL_IP")

if TYPE_CHECKING:
    from adjudicator.frame import FrameRun, adjudicate_frame
    from adjudicator.options import EngineSettings, RunOptions, Slice
    from adjudicator.rules.tables import RuleSet, load_rules
    from adjudicator.run import adjudicate

__all__ = [
    "DISTRIBUTION",
    "EngineSettings",
    "FrameRun",
    "RuleSet",
    "RunOptions",
    "Slice",
    "__version__",
    "adjudicate",
    "adjudicate_frame",
    "load_rules",
]

_HOMES = {
    "RuleSet": "rules.tables",
    "load_rules": "rules.tables",
    "RunOptions": "options",
    "Slice": "options",
    "EngineSettings": "options",
    "adjudicate": "run",
    "adjudicate_frame": "frame",
    "FrameRun": "frame",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(f"adjudicator.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'adjudicator' has no attribute {name!r}")
