"""Payers: the payer-alias table and ``--payer`` applied to payer_id, keeping the id as read.

Grain unchanged.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from adjudicator.contract import PAYER_ID

#: the original payer_id of each line, kept when ``--payer`` or the alias table changed it
PAYER_ID_AS_READ: Final = "payer_id_as_read"


def apply_payers(frame: pl.LazyFrame, *, payer: str | None = None, aliases: pl.DataFrame | None = None) -> pl.LazyFrame:
    """payer_id through the alias table (an identifier with no alias is kept), then ``payer`` on every line.

    Grain unchanged. When either changes anything, the payer_id as read is kept
    in ``payer_id_as_read``.
    """
    if payer is None and aliases is None:
        return frame
    read = pl.col(PAYER_ID).cast(pl.String)
    value = read
    if aliases is not None:
        value = value.replace(aliases["alias"], aliases["payer_id"])
    if payer is not None:
        value = pl.lit(payer, dtype=pl.String)
    return frame.with_columns(read.alias(PAYER_ID_AS_READ), value.alias(PAYER_ID))
