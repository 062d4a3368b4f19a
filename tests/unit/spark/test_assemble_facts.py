"""The one place a Spark run's facts are made on the driver (``spark.narrow.assemble_facts``): the duplicated
keys and the keys each edit fired on, as the embedded engine's ``BatchFacts``, its counts from the facts."""

from __future__ import annotations

import polars as pl

from adjudicator.contract import CLAIM_ID, LINE_NUMBER
from adjudicator.engine.facts import DUPLICATE, FIRED, empty_keys
from adjudicator.rules.compiled import ADDON_EDIT, UNITS_EDIT
from adjudicator.spark.narrow import assemble_facts


def _keys(*pairs: tuple[str, int]) -> pl.DataFrame:
    return pl.DataFrame(
        {CLAIM_ID: [c for c, _ in pairs], LINE_NUMBER: [n for _, n in pairs]},
        schema={CLAIM_ID: pl.String, LINE_NUMBER: pl.Int64},
    )


def test_one_row_per_key_a_fact_names_and_edit_lines_counted_once_per_key() -> None:
    facts = assemble_facts(
        _keys(("C1", 1)),
        {ADDON_EDIT: _keys(("C2", 2), ("C3", 1)), UNITS_EDIT: _keys(("C3", 1))},
    )
    keys = facts.keys.sort(CLAIM_ID)
    assert keys[CLAIM_ID].to_list() == ["C1", "C2", "C3"]
    assert keys[DUPLICATE].to_list() == [True, False, False]
    assert keys[FIRED[ADDON_EDIT]].to_list() == [False, True, True]
    assert keys[FIRED[UNITS_EDIT]].to_list() == [False, False, True]
    assert facts.edit_lines == 2
    assert facts.supersede is None and facts.deliveries is None


def test_no_facts_is_the_empty_frame_of_the_embedded_engine() -> None:
    facts = assemble_facts(_keys(), {ADDON_EDIT: _keys(), UNITS_EDIT: _keys()})
    assert facts.keys.schema == empty_keys().schema and facts.keys.height == 0
    assert facts.edit_lines == 0
