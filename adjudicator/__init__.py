"""adjudicator: batch adjudication of work hardening claim lines against date-ranged policies and plans.

The public surface is small: ``adjudicate`` (one run, returns its manifest),
``RunOptions``, ``load_rules`` and the ``adjudicate`` command line.
"""

from adjudicator.rules import RuleSet, load_rules
from adjudicator.run import RunOptions, adjudicate

__all__ = ["RuleSet", "RunOptions", "adjudicate", "load_rules"]
__version__ = "0.1.0"
