"""Re-delivered lines: the layout's ``RedeliveryRule`` as a reject flag on the frame, or as the
``engine.facts.Supersede`` the prepass applies across the whole batch.

Grain unchanged (one row per delivered copy of a line).
"""

from __future__ import annotations

import polars as pl

from adjudicator.contract import REJECT_PREFIX
from adjudicator.engine.checks import parsed
from adjudicator.engine.facts import Supersede
from adjudicator.readers.catalog import LAYOUT_SPECS
from adjudicator.readers.specs import RedeliveryRule


def _file_date(column: str) -> pl.Expr:
    text = pl.col(column).cast(pl.String).str.strip_chars()
    return pl.coalesce(
        text.str.strptime(pl.Date, "%Y-%m-%d", strict=False),
        pl.when(text.str.contains(r"^[0-9]{8}$")).then(text.str.strptime(pl.Date, "%Y%m%d", strict=False)),
    )


def flag_superseded(frame: pl.LazyFrame, rule: RedeliveryRule) -> pl.LazyFrame:
    """Add ``_reject_<check>``: True for a copy whose ``order_by`` date is older than the latest of its typed key.

    Grain unchanged (one row per delivered copy). Needs the whole batch: copies
    of a line may come in different files.
    """
    delivered = _file_date(rule.order_by)
    # matched on the key as the duplicate check types it (``engine.checks.parsed``): "  C1" is C1, "1.0" is 1
    key = [parsed(k) for k in rule.key]
    older = (delivered < delivered.max().over(key)).fill_null(False) & pl.all_horizontal(k.is_not_null() for k in key)
    return frame.with_columns(older.alias(REJECT_PREFIX + rule.check))


def supersede_rule(name: str) -> Supersede | None:
    """Layout ``name``'s re-delivery rule as the prepass applies it (None when the layout has none)."""
    rule = LAYOUT_SPECS[name].supersede
    if rule is None:
        return None
    return Supersede(check=rule.check, key=rule.key, delivered=_file_date(rule.order_by))
