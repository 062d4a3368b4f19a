"""The rules compiled once per run (contract sections 4 and 5): everything a batch needs, small and picklable.

``compile_rules`` turns a ``RuleSet`` into a frozen ``CompiledRules``: the
policy and plan tiles (every date of every key falls in exactly one row,
``adjudicator.rules.tiles``), the place-of-service classes, the decision table
evaluated once over every (policy tile, plan tile, place class)
(``adjudicator.rules.decision``), and the edit table (every possible (code,
which edits fired) combination). A line's verdict is then two small
integers, its decision row and its edit row, encoded and decoded here and
nowhere else (``VerdictRows``, ``CompiledRules.encode``, ``CompiledRules.decode``,
and ``CompiledRules.dictionary_codes`` for the writer's dictionary columns).
Every policy literal (codes, dates, stances' consequences, pairs, limits,
messages) comes from the rule tables; the object holds data only (frames,
tuples, dicts), so it pickles and can be shipped to other processes.
"""

from __future__ import annotations

import array
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import polars as pl
import pyarrow as pa

from adjudicator.contract import (
    DECISION_COLUMNS,
    DETERMINATION,
    EDIT_CARCS,
    EDITS,
    NO_ACTION,
    PAYER_ID,
    PLACE_OF_SERVICE,
    PLAN_ID,
    PROCEDURE_CODE,
    SERVICE_DATE,
)
from adjudicator.errors import InternalError
from adjudicator.rules.decision import decision_table, place_classes
from adjudicator.rules.tables import RuleSet
from adjudicator.rules.tiles import PLAN_KEYS, POLICY_KEYS, TileIndex, plan_tiles, policy_tiles

#: the edits a batch can fire, in the order of their bit in an edit row
ADDON_EDIT = "addon_without_primary"
UNITS_EDIT = "units_exceed_limit"


def plain_strings(values: pl.Series) -> pa.StringArray:
    """A String series as Arrow ``string`` (polars gives ``large_string``), from its buffers: a pyarrow cast
    imports pyarrow.compute and a constructor from Python values imports pandas, both slow to start
    (docs/benchmarks.md)."""
    large = values.rechunk().to_arrow(compat_level=pl.CompatLevel.oldest())
    validity, offsets, data = large.buffers()
    # the values of a dictionary (a few dozen): their offsets narrowed one by one; beyond 2 GiB, OverflowError
    narrow = array.array("i", memoryview(offsets).cast("q")[: large.offset + len(large) + 1])
    return pa.StringArray.from_buffers(len(large), pa.py_buffer(narrow), data, validity, large.null_count, large.offset)


class VerdictRows(NamedTuple):
    """A line's verdict as two row numbers: into ``CompiledRules.decision`` and into the edit table."""

    decision: pl.Expr
    edit: pl.Expr


@dataclass(frozen=True)
class CompiledRules:
    """Everything a batch needs to decide its lines, built once per run by ``compile_rules``; small, picklable."""

    #: contract section 4 over every (policy tile or none, plan tile or none, place class), then a last
    #: row for lines no policy targets (NO_ACTION, null but for its determination)
    decision: pl.DataFrame
    policy_index: TileIndex
    plan_index: TileIndex
    #: place-of-service code -> class; every other code (or none) is class ``n_place - 1``
    place_classes: dict[str, int]
    n_place: int
    #: rows of the plan side of the decision table (plan tiles + "none")
    n_plan: int
    #: codes some policy targets
    targeted_codes: tuple[str, ...]
    #: codes an add-on pair or a unit limit names
    edit_codes: tuple[str, ...]
    #: edit table: one row per (code class, which edits fired); lists of edit names and of group-CARC codes
    edit_names: pl.Series
    edit_carcs: pl.Series
    #: procedure code -> class in the edit table (other codes: ``len(edit_code_classes)``)
    edit_code_classes: dict[str, int]
    #: the edits the tables define (ADDON_EDIT, UNITS_EDIT), in the order of their bit in an edit row
    edit_kinds: tuple[str, ...]
    addon_pairs: pl.DataFrame
    unit_limits: pl.DataFrame
    #: the decision table's scalar columns as dictionaries (``dictionary_columns``): per column, each
    #: decision row's code (Int32, null where the value is null) and the distinct values the codes index
    dictionaries: dict[str, tuple[pl.Series, pl.Series]]

    @property
    def verdict_codes(self) -> tuple[str, ...]:
        """Codes whose lines can get anything but NO_ACTION without edits: the only lines a batch decides."""
        return tuple(sorted(set(self.targeted_codes) | set(self.edit_codes)))

    def encode(self, fired: dict[str, pl.Expr]) -> VerdictRows:
        """Each line's verdict rows from its typed columns and which edits fired (``fired[kind]``, Boolean)."""
        date = pl.col(SERVICE_DATE)
        policy = self.policy_index.position([pl.col(PAYER_ID), pl.col(PROCEDURE_CODE)], date)
        plan = self.plan_index.position([pl.col(PLAN_ID)], date)
        other_place = self.n_place - 1
        place = (
            pl.col(PLACE_OF_SERVICE)
            .replace_strict(self.place_classes, default=other_place, return_dtype=pl.Int64)
            .fill_null(other_place)
        )
        row = ((policy.fill_null(-1) + 1) * self.n_plan + plan.fill_null(-1) + 1) * self.n_place + place
        targeted = pl.col(PROCEDURE_CODE).is_in(pl.Series(self.targeted_codes, dtype=pl.String).implode())
        decision = pl.when(targeted).then(row).otherwise(self.decision.height - 1)
        code_class = pl.col(PROCEDURE_CODE).replace_strict(
            self.edit_code_classes, default=len(self.edit_code_classes), return_dtype=pl.Int64
        )
        bits = pl.lit(0, pl.Int64)
        for k, kind in enumerate(self.edit_kinds):
            bits = bits + fired[kind].fill_null(False).cast(pl.Int64) * (1 << k)
        return VerdictRows(decision=decision, edit=code_class * (1 << len(self.edit_kinds)) + bits)

    @property
    def no_edit_row(self) -> int:
        """The edit row of a line whose code no pair or limit names: empty lists."""
        return len(self.edit_code_classes) * (1 << len(self.edit_kinds))

    @cached_property
    def arrow_values(self) -> dict[str, pa.Array]:
        """Each dictionary's values as Arrow (plain strings and dates), for ``pa.DictionaryArray``."""
        return {
            column: plain_strings(values) if values.dtype == pl.String else values.to_arrow()
            for column, (_, values) in self.dictionaries.items()
        }

    @cached_property
    def flagged_rows(self) -> pl.Series:
        """Per decision row, whether its determination flags the line (anything but NO_ACTION)."""
        return self.decision[DETERMINATION] != NO_ACTION

    @cached_property
    def untargeted_codes(self) -> dict[str, int | None]:
        """Each dictionary column's code for a line no policy targets (``dictionary_codes`` of a null row)."""
        codes = self.dictionary_codes(pl.Series([None], dtype=pl.Int32))
        return {column: code[0] for column, code in codes.items()}

    def dictionary_codes(self, decision: pl.Series) -> dict[str, pl.Series]:
        """For each line's decision row (null: no policy targets the code), its code in each scalar decision
        column's dictionary (``dictionaries``); null where the line's value is null.

        The same values ``decode`` gives, as one small integer gather per column
        instead of a gather of the values: the writer hands them to Parquet as
        dictionary pages (the values once, then the codes).
        """
        codes = {column: table.gather(decision) for column, (table, _) in self.dictionaries.items()}
        codes[DETERMINATION] = codes[DETERMINATION].fill_null(self.dictionaries[DETERMINATION][0][-1])
        return codes

    def decode(self, rows: VerdictRows) -> list[pl.Expr]:
        """The ``DECISION_COLUMNS`` of each line from its verdict rows, in output order.

        A null decision row is a line no policy targets (NO_ACTION): gathering
        at a null index is cheaper than gathering the NO_ACTION row, which is
        null but for its determination (docs/benchmarks.md). A null edit row
        has no edits.
        """
        table = self.decision
        out = {c: pl.lit(table[c]).gather(rows.decision).alias(c) for c in table.columns if c in DECISION_COLUMNS}
        out[DETERMINATION] = out[DETERMINATION].fill_null(pl.lit(NO_ACTION))
        edit = rows.edit.fill_null(self.no_edit_row)
        out[EDITS] = pl.lit(self.edit_names).gather(edit).alias(EDITS)
        out[EDIT_CARCS] = pl.lit(self.edit_carcs).gather(edit).alias(EDIT_CARCS)
        return [out[c] for c in DECISION_COLUMNS]


def compile_rules(rules: RuleSet) -> CompiledRules:
    """Compile a loaded ``RuleSet`` (checked at load) into the tables a batch reads."""
    policies = policy_tiles(rules)
    plans = plan_tiles(rules)
    place_codes, place_settings = place_classes(rules, policies)
    decision = decision_table(rules, policies, plans, place_codes, place_settings)
    names, carcs, code_classes, kinds = _edit_table(rules)
    compiled = CompiledRules(
        decision=decision,
        policy_index=TileIndex.of(policies, list(POLICY_KEYS)),
        plan_index=TileIndex.of(plans, list(PLAN_KEYS)),
        place_classes={code: i for i, code in enumerate(place_codes) if code is not None},
        n_place=len(place_codes),
        n_plan=plans.height + 1,
        targeted_codes=tuple(rules.targeted_codes),
        edit_codes=tuple(
            sorted(
                {
                    *rules.addon_pairs["addon_code"],
                    *rules.addon_pairs["primary_code"],
                    *rules.unit_limits["procedure_code"],
                }
            )
        ),
        edit_names=names,
        edit_carcs=carcs,
        edit_code_classes=code_classes,
        edit_kinds=kinds,
        addon_pairs=rules.addon_pairs.select("addon_code", "primary_code"),
        unit_limits=rules.unit_limits.select("procedure_code", "max_units_per_member_day"),
        dictionaries=_dictionaries(decision),
    )
    no_action = decision.tail(1).drop(DETERMINATION)
    if no_action.null_count().sum_horizontal().item() != no_action.width:
        raise InternalError("the NO_ACTION row of the decision table must be null but for its determination")
    return compiled


def _dictionaries(decision: pl.DataFrame) -> dict[str, tuple[pl.Series, pl.Series]]:
    """Each scalar decision column of the table as (a code per row, the distinct non-null values, in order of
    first appearance); the codes index the values and are null where the row's value is null."""
    found: dict[str, tuple[pl.Series, pl.Series]] = {}
    for column in DECISION_COLUMNS:
        if column not in decision.columns or decision[column].dtype.is_nested():
            continue
        values = decision[column].drop_nulls().unique(maintain_order=True)
        codes = (
            decision.select(column)
            .with_row_index("_row")
            .join(values.to_frame().with_row_index("_code"), on=column, how="left")
            .sort("_row")["_code"]
            .cast(pl.Int32)
        )
        found[column] = (codes, values)
    return found


def _edit_table(rules: RuleSet) -> tuple[pl.Series, pl.Series, dict[str, int], tuple[str, ...]]:
    """Every possible (code, which edits fired) combination listed once.

    Returns (``edits`` lists, ``edit_carcs`` lists, code -> class, the edit
    kinds in bit order). The last rows (code class ``len(codes)``) hold empty
    lists: the rows of any line whose code no pair or limit names.
    """
    tables = [
        (rules.addon_pairs, "addon_code", ADDON_EDIT),
        (rules.unit_limits, "procedure_code", UNITS_EDIT),
    ]
    tables = [t for t in tables if t[0].height]
    codes = sorted({c for table, key, _ in tables for c in table[key]})
    names: list[list[str]] = []
    carcs: list[list[str]] = []
    for code in [*codes, None]:
        for bits in range(1 << len(tables)):
            fired_names, fired_codes = [], []
            for k, (table, key, _) in enumerate(tables):
                rows = table.filter(pl.col(key) == code) if code is not None else table.clear()
                if bits >> k & 1 and rows.height:
                    fired_names.append(rows["edit"][0])
                    fired_codes.append(f"{rows['group_code'][0]}-{rows['carc'][0]}")
            names.append(fired_names)
            carcs.append(fired_codes)
    return (
        pl.Series(EDITS, names, dtype=pl.List(pl.String)),
        pl.Series(EDIT_CARCS, carcs, dtype=pl.List(pl.String)),
        {c: i for i, c in enumerate(codes)},
        tuple(kind for _, _, kind in tables),
    )


__all__ = [
    "ADDON_EDIT",
    "UNITS_EDIT",
    "CompiledRules",
    "VerdictRows",
    "compile_rules",
    "plain_strings",
]
