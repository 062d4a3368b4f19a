"""A run's inputs read: its files resolved, its layout chosen (``--layout``, else detected), the raw frame
scanned with the payers applied, and the layout's re-delivery rule for the prepass."""

from __future__ import annotations

from typing import TYPE_CHECKING

from adjudicator.errors import InputError

if TYPE_CHECKING:
    import polars as pl

    from adjudicator.engine.facts import Supersede
    from adjudicator.options import RunOptions
    from adjudicator.rules.tables import RuleSet


def read_inputs(options: RunOptions, rules: RuleSet) -> tuple[pl.LazyFrame, list[str], str, Supersede | None]:
    """The raw frame of all inputs, the files it reads, the layout used (``--layout``, else detected) and the
    layout's re-delivery rule (applied by the prepass, which sees every copy of a line)."""
    from adjudicator.readers.detect import detect_layout
    from adjudicator.readers.paths import resolve_paths
    from adjudicator.readers.redelivery import supersede_rule
    from adjudicator.readers.scan import scan_layout
    from adjudicator.readers.specs import LAYOUTS

    paths = resolve_paths(options.inputs)
    if options.layout is not None and options.layout not in LAYOUTS:
        raise InputError(f"--layout must be one of {', '.join(LAYOUTS)}, got {options.layout!r}")
    layout = options.layout or detect_layout(paths[0])
    # canonical files already carry the rule tables' payer ids; the aliases translate the identifiers of
    # other layouts (an 837P's payer id), and skipping them spares a lookup and a column on every line
    aliases = None if layout == "canonical" else rules.payer_aliases
    raw = scan_layout(layout, paths, payer=options.payer, aliases=aliases, flag_supersede=False)
    return raw, paths, layout, supersede_rule(layout)
