"""The rules compiled once per run (contract sections 4 and 5): everything a batch needs, small and picklable.

``compile_rules`` turns a ``RuleSet`` into a frozen ``CompiledRules``: the
policy and plan tiles (every date of every key falls in exactly one row), the
place-of-service classes, the decision table evaluated once over every
(policy tile, plan tile, place class), and the edit table (every possible
(code, which edits fired) combination). A line's verdict is then two small
integers, its decision row and its edit row, encoded and decoded here and
nowhere else (``VerdictRows``, ``CompiledRules.encode``, ``CompiledRules.decode``,
and ``CompiledRules.dictionary_codes`` for the writer's dictionary columns).
Every policy literal (codes, dates, stances' consequences, pairs, limits,
messages) comes from the rule tables; the object holds data only (frames,
tuples, dicts), so it pickles and can be shipped to other processes.
"""

from __future__ import annotations

import array
from collections.abc import Sequence
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
    MESSAGE,
    NO_ACTION,
    PAYER_ID,
    PLACE_OF_SERVICE,
    PLAN_ID,
    PROCEDURE_CODE,
    REASON,
    SERVICE_DATE,
)
from adjudicator.rules.tables import ANY_PLACE, PLACEHOLDER, REASONS, RuleSet

#: helper columns of the tiles (``complete_versions``)
_FOUND = "_version_found"
_EFF = "_effective_date"
_END = "_end_date"

_DAY_OFFSET = 1 << 31
_KEY_SPAN = 1 << 32

#: the edits a batch can fire, in the order of their bit in an edit row
ADDON_EDIT = "addon_without_primary"
UNITS_EDIT = "units_exceed_limit"


def complete_versions(versions: pl.DataFrame, keys: Sequence[str], payload: Sequence[str]) -> pl.DataFrame:
    """Tile each key's whole date line with its versions plus gap rows, so every date falls in exactly one row.

    Grain: one row per (key, version or gap). ``_version_found`` is True on a
    version and False on a gap; ``_effective_date``/``_end_date`` are inclusive
    and null where open. Versions of one key must not overlap (checked at load).
    """
    keys = list(keys)
    ordered = (
        versions.select(
            *keys,
            pl.col("effective_date").alias(_EFF),
            pl.col("end_date").alias(_END),
            *payload,
        )
        .with_columns(pl.lit(True).alias(_FOUND))
        .sort([*keys, _EFF], nulls_last=False)
    )
    one_day = pl.duration(days=1)
    prev_end = pl.col(_END).shift(1).over(keys)
    is_first = pl.int_range(pl.len()).over(keys) == 0
    # a gap before each version that does not start right after the previous one
    before = ordered.filter(
        (is_first & pl.col(_EFF).is_not_null()) | (~is_first & (pl.col(_EFF) > prev_end + one_day))
    ).select(
        *keys,
        pl.when(is_first).then(None).otherwise(prev_end + one_day).alias(_EFF),
        (pl.col(_EFF) - one_day).alias(_END),
    )
    # and after the last one, when it ends
    is_last = pl.int_range(pl.len()).over(keys) == pl.len().over(keys) - 1
    after = ordered.filter(is_last & pl.col(_END).is_not_null()).select(
        *keys, (pl.col(_END) + one_day).alias(_EFF), pl.lit(None, pl.Date).alias(_END)
    )
    gaps = pl.concat([before, after]).with_columns(pl.lit(False).alias(_FOUND))
    return pl.concat([ordered, gaps], how="diagonal_relaxed").sort([*keys, _EFF], nulls_last=False)


def plain_strings(values: pl.Series) -> pa.StringArray:
    """A String series as Arrow ``string`` (polars gives ``large_string``), from its buffers: a pyarrow cast
    imports pyarrow.compute and a constructor from Python values imports pandas, 0.3 s of start-up together."""
    large = values.rechunk().to_arrow(compat_level=pl.CompatLevel.oldest())
    validity, offsets, data = large.buffers()
    # the values of a dictionary (a few dozen): their offsets narrowed one by one; beyond 2 GiB, OverflowError
    narrow = array.array("i", memoryview(offsets).cast("q")[: large.offset + len(large) + 1])
    return pa.StringArray.from_buffers(len(large), pa.py_buffer(narrow), data, validity, large.null_count, large.offset)


@dataclass(frozen=True)
class TileIndex:
    """A tiled rule table made searchable: each key numbered, each tile start one sortable integer.

    ``codes`` maps each key column's values to small integers; ``combined``
    maps the combination of those integers to the key's number; ``starts`` is
    (key number, first day) of every tile as one sorted Int64.
    """

    key_columns: tuple[str, ...]
    codes: tuple[dict[str, int], ...]
    combined: dict[int, int]
    starts: pl.Series

    @classmethod
    def of(cls, tiles: pl.DataFrame, keys: Sequence[str]) -> TileIndex:
        distinct = tiles.select(keys).unique(maintain_order=True).with_row_index("_key")
        codes: list[dict[str, int]] = []
        table_combined: pl.Expr | None = None
        for key in keys:
            values = distinct[key].unique(maintain_order=True).to_list()
            mapping = {v: i for i, v in enumerate(values)}
            codes.append(mapping)
            code = pl.col(key).replace_strict(mapping, return_dtype=pl.Int64)
            table_combined = code if table_combined is None else table_combined * len(values) + code
        assert table_combined is not None
        lookup = distinct.select(table_combined.alias("_combined"), pl.col("_key").cast(pl.Int64))
        keyed = tiles.join(distinct, on=list(keys), how="left", maintain_order="left")
        days = pl.col(_EFF).cast(pl.Int32).cast(pl.Int64) + _DAY_OFFSET
        starts = keyed.select(pl.col("_key").cast(pl.Int64) * _KEY_SPAN + days.fill_null(0)).to_series()
        if not starts.is_sorted():
            raise ValueError("tiles must be sorted by key, then by start")
        return cls(
            key_columns=tuple(keys),
            codes=tuple(codes),
            combined=dict(zip(lookup["_combined"], lookup["_key"], strict=True)),
            starts=starts.alias("_starts"),
        )

    def position(self, lines: Sequence[pl.Expr], date: pl.Expr) -> pl.Expr:
        """The tile (row of the tiles) holding each line's date; null when its key has none.

        This is the project's one date-ranged lookup. The rule table is tiny, so
        it is not joined: each line finds its tile with one vectorized binary
        search over ``starts``. No row is multiplied, re-joined or sorted.
        """
        key: pl.Expr | None = None
        for expr, mapping in zip(lines, self.codes, strict=True):
            code = expr.replace_strict(mapping, default=None, return_dtype=pl.Int64)
            key = code if key is None else key * len(mapping) + code
        assert key is not None
        number = key.replace_strict(self.combined, default=None, return_dtype=pl.Int64)
        line_day = date.cast(pl.Int32).cast(pl.Int64) + _DAY_OFFSET
        position = pl.lit(self.starts).search_sorted(number * _KEY_SPAN + line_day, side="right").cast(pl.Int64) - 1
        return pl.when(number.is_not_null() & date.is_not_null()).then(position)


def tile_position(
    tiles: pl.DataFrame, *, left_on: Sequence[pl.Expr], right_on: Sequence[str], date: pl.Expr
) -> pl.Expr:
    """``TileIndex.of(tiles, right_on).position(left_on, date)``: the row of ``tiles`` holding each line's date."""
    return TileIndex.of(tiles, right_on).position(left_on, date)


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
        at a null index is about twice as cheap as gathering the NO_ACTION row,
        which is null but for its determination. A null edit row has no edits.
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
    policy_tiles = _policy_tiles(rules)
    plan_tiles = _plan_tiles(rules)
    place_codes, place_settings = _place_classes(rules, policy_tiles)
    decision = decision_table(rules, policy_tiles, plan_tiles, place_codes, place_settings)
    names, carcs, code_classes, kinds = _edit_table(rules)
    compiled = CompiledRules(
        decision=decision,
        policy_index=TileIndex.of(policy_tiles, ["payer_id", "procedure_code"]),
        plan_index=TileIndex.of(plan_tiles, ["plan_id"]),
        place_classes={code: i for i, code in enumerate(place_codes) if code is not None},
        n_place=len(place_codes),
        n_plan=plan_tiles.height + 1,
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
        raise AssertionError("the NO_ACTION row of the decision table must be null but for its determination")
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


def _place_classes(rules: RuleSet, policy_tiles: pl.DataFrame) -> tuple[list[str | None], list[str]]:
    """Places of service that can decide differently: every code a table names, then one class for all others.

    Returns (code of each class, with None for "any other or none"; setting of each class).
    """
    settings = dict(zip(rules.places["place_of_service"], rules.places["setting"], strict=True))
    default = settings.pop(ANY_PLACE)
    tokens = policy_tiles["_policy_places"].explode().drop_nulls().unique().sort().to_list()
    codes = sorted(set(settings) | {t for t in tokens if t.isdigit()})
    return [*codes, None], [str(settings.get(c, default)) for c in codes] + [str(default)]


def decision_table(
    rules: RuleSet,
    policy_tiles: pl.DataFrame,
    plan_tiles: pl.DataFrame,
    place_codes: list[str | None],
    place_settings: list[str],
) -> pl.DataFrame:
    """Contract section 4 evaluated once for every combination that can occur; small.

    Grain: one row per (policy tile or none, plan tile or none, place class),
    plus a last row for lines no policy targets (NO_ACTION). A line's verdict is
    then a lookup into this table, so the per-line work is three binary
    searches and a gather, whatever the number of rules.
    """
    n_plan, n_place = plan_tiles.height + 1, len(place_codes)
    policy_side = (
        pl.concat(
            [policy_tiles.head(0).with_columns(pl.lit(None).alias(_FOUND)).clear(1), policy_tiles],
            how="vertical_relaxed",
        )
        .drop("payer_id", "procedure_code", _EFF, _END)
        .rename({_FOUND: "_policy_found"})
    )
    plan_side = (
        pl.concat([plan_tiles.clear(1), plan_tiles], how="vertical_relaxed")
        .drop("plan_id", _EFF, _END)
        .rename({_FOUND: "_plan_found"})
    )
    places = pl.DataFrame(
        {PLACE_OF_SERVICE: place_codes, "_setting": place_settings},
        schema={PLACE_OF_SERVICE: pl.String, "_setting": pl.String},
    )
    combos = (
        policy_side.with_row_index("_p")
        .join(plan_side.with_row_index("_q"), how="cross")
        .join(places.with_row_index("_c"), how="cross")
        .sort("_p", "_q", "_c")
    )
    if combos.height != policy_side.height * n_plan * n_place:
        raise AssertionError("decision table is not the full product")
    decided = _decide_frame(combos, rules)
    no_action = decided.clear(1).with_columns(pl.lit(NO_ACTION).alias(DETERMINATION))
    return pl.concat([decided, no_action])


def _decide_frame(combos: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """The decision table's rows, in the contract's order, over every combination (small frame)."""
    tokens = pl.col("_policy_places")
    policy_applies = (
        tokens.is_null()
        | tokens.list.contains(pl.col(PLACE_OF_SERVICE).fill_null(""))
        | tokens.list.contains(pl.col("_setting"))
    )
    policy_found = pl.col("_policy_found").fill_null(False)
    plan_found = pl.col("_plan_found").fill_null(False)
    conditions = {
        "MEDICARE_CARRIER_DISCRETION": (pl.col("plan_line_of_business") == "MEDICARE") | _stance("CARRIER_DISCRETION"),
        "NO_POLICY_IN_EFFECT": ~policy_found,
        "POLICY_SUPERSEDED": _stance("SUPERSEDED"),
        "POLICY_NOT_APPLICABLE": ~policy_applies,
        "PLAN_NOT_FOUND": ~plan_found,
        "PLAN_COVERS_SERVICE": pl.col("_plan_covers"),
        "BENEFIT_EXCLUSION": _stance("BENEFIT_EXCLUSION"),
        "NOT_MEDICALLY_NECESSARY": _stance("NOT_MEDICALLY_NECESSARY") & pl.col("_plan_excludes_nmn"),
        "NO_NMN_EXCLUSION_IN_PLAN": _stance("NOT_MEDICALLY_NECESSARY"),
    }
    if tuple(conditions) != REASONS:
        raise AssertionError("decision rows out of the contract's order")
    reason: pl.Expr = pl.lit(None, pl.String)
    for name in reversed(REASONS):
        reason = pl.when(conditions[name].fill_null(False)).then(pl.lit(name)).otherwise(reason)

    table = rules.reasons

    def lookup(column: str) -> pl.Expr:
        mapping = dict(zip(table["reason"], table[column], strict=True))
        return pl.col(REASON).replace_strict(mapping, default=None, return_dtype=pl.String)

    message: pl.Expr = pl.lit(None, pl.String)
    for row in table.iter_rows(named=True):
        message = pl.when(pl.col(REASON) == row["reason"]).then(_message(row["message"])).otherwise(message)
    policy_columns = [
        "policy_id",
        "policy_version",
        "policy_effective_date",
        "policy_end_date",
        "policy_stance",
        "policy_source",
    ]
    plan_columns = ["plan_version_effective_date", "plan_line_of_business"]
    return (
        combos.with_columns(reason.alias(REASON))
        .with_columns(
            lookup("determination").alias(DETERMINATION),
            lookup("group_code").alias("group_code"),
            lookup("carc").alias("carc"),
            lookup("rarc").alias("rarc"),
            message.alias(MESSAGE),
            # a gap tile carries no version: keep its columns null
            *(pl.when(policy_found).then(pl.col(c)).alias(c) for c in policy_columns),
            *(pl.when(plan_found).then(pl.col(c)).alias(c) for c in plan_columns),
        )
        .select(DETERMINATION, REASON, *policy_columns, *plan_columns, "group_code", "carc", "rarc", MESSAGE)
    )


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


#: the column each message placeholder (``rules.MESSAGE_PLACEHOLDERS``) reads
_MESSAGE_FIELDS = {
    "policy": "policy_id",
    "version": "policy_version",
    "source": "policy_source",
}


def _message(template: str) -> pl.Expr:
    """The message of a reasons.csv template; its placeholders were checked when the table was loaded."""
    names = PLACEHOLDER.findall(template)
    fmt = PLACEHOLDER.sub("{}", template)
    return pl.format(fmt, *(pl.col(_MESSAGE_FIELDS[n]).fill_null("?") for n in names))


def _stance(name: str) -> pl.Expr:
    return pl.col("policy_stance") == name


def _policy_tiles(rules: RuleSet) -> pl.DataFrame:
    policies = rules.policies.select(
        "payer_id",
        "procedure_code",
        "effective_date",
        "end_date",
        "policy_id",
        pl.col("version").alias("policy_version"),
        pl.col("effective_date").alias("policy_effective_date"),
        pl.col("end_date").alias("policy_end_date"),
        pl.col("stance").alias("policy_stance"),
        pl.col("source").alias("policy_source"),
        pl.col("places_of_service").str.split(";").list.eval(pl.element().str.strip_chars()).alias("_policy_places"),
    )
    payload = [c for c in policies.columns if c not in ("payer_id", "procedure_code", "effective_date", "end_date")]
    return complete_versions(policies, ["payer_id", "procedure_code"], payload)


def _plan_tiles(rules: RuleSet) -> pl.DataFrame:
    plans = rules.plans.select(
        "plan_id",
        "effective_date",
        "end_date",
        pl.col("effective_date").alias("plan_version_effective_date"),
        pl.col("line_of_business").alias("plan_line_of_business"),
        pl.col("excludes_not_medically_necessary").alias("_plan_excludes_nmn"),
        pl.col("covers_work_hardening").alias("_plan_covers"),
    )
    payload = [c for c in plans.columns if c not in ("plan_id", "effective_date", "end_date")]
    return complete_versions(plans, ["plan_id"], payload)


__all__ = [
    "ADDON_EDIT",
    "UNITS_EDIT",
    "CompiledRules",
    "TileIndex",
    "VerdictRows",
    "compile_rules",
    "complete_versions",
    "decision_table",
    "tile_position",
]
