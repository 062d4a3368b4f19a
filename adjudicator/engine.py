"""The adjudication plan (contract sections 4 and 5): pure functions from LazyFrames to LazyFrames, no I/O.

The same plan runs on polars' streaming engine, per partition under another
engine, or on the GPU engine: nothing here reads, writes or collects input.
Rule tables are small DataFrames made lazy and joined; every policy literal
(codes, dates, stances' consequences, pairs, limits) comes from them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from adjudicator.contract import (
    CANONICAL,
    CLAIM_ID,
    LINE_NUMBER,
    MEMBER_ID,
    PAYER_ID,
    PLACE_OF_SERVICE,
    PLAN_ID,
    PROCEDURE_CODE,
    REJECT_PREFIX,
    SERVICE_DATE,
    SOURCE_FILE,
    UNITS,
)
from adjudicator.rules import ANY_PLACE, REASONS, RuleSet
from adjudicator.validate import (
    DUPLICATE_KEY,
    FLAG_PREFIX,
    RAW_PREFIX,
    VALID,
    any_failed,
    failed_check_names,
    flag_columns,
    with_checks,
)

DETERMINATION = "determination"
REASON = "reason"
EDITS = "edits"
EDIT_CARCS = "edit_carcs"
FAILED_CHECKS = "failed_checks"
RUN_ID = "run_id"

#: columns the decision adds to each line, in output order
DECISION_COLUMNS = (
    DETERMINATION,
    REASON,
    "policy_id",
    "policy_version",
    "policy_effective_date",
    "policy_end_date",
    "policy_stance",
    "policy_source",
    "plan_version_effective_date",
    "plan_line_of_business",
    "group_code",
    "carc",
    "rarc",
    EDITS,
    EDIT_CARCS,
    "message",
)

_FOUND = "_version_found"
_EFF = "_effective_date"
_END = "_end_date"


@dataclass(frozen=True)
class Plan:
    """The two outputs of one run, as lazy plans over the same input."""

    results: pl.LazyFrame
    rejects: pl.LazyFrame
    #: rows outside the slice, counted per source file (None when the run has no slice)
    skipped: pl.LazyFrame | None = None


def complete_versions(
    versions: pl.DataFrame, keys: Sequence[str], payload: Sequence[str]
) -> pl.DataFrame:
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
        (is_first & pl.col(_EFF).is_not_null())
        | (~is_first & (pl.col(_EFF) > prev_end + one_day))
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
    return pl.concat([ordered, gaps], how="diagonal_relaxed").sort(
        [*keys, _EFF], nulls_last=False
    )


def join_in_effect(
    lines: pl.LazyFrame,
    versions: pl.DataFrame,
    *,
    left_on: Sequence[pl.Expr],
    right_on: Sequence[str],
    date: str,
    payload: Sequence[str],
) -> pl.LazyFrame:
    """Each line with the version of its key in effect on ``date`` (bounds inclusive, null bounds open).

    Grain unchanged: one row per line. Adds ``payload`` and ``_version_found``
    (null: no version of the key at all; False: the key exists but no version
    is in effect that day; True: found). This is the one date-ranged join of the
    project: a hash join against the key's tiled versions, then a filter that
    keeps the single tile containing the date. Lines whose key is null (not
    concerned) match nothing and keep one row.
    """
    tiles = complete_versions(versions, right_on, payload).lazy()
    joined = lines.join(
        tiles, left_on=list(left_on), right_on=list(right_on), how="left",
        maintain_order="left", coalesce=False,
    )
    d = pl.col(date)
    in_tile = (pl.col(_EFF).is_null() | (d >= pl.col(_EFF))) & (
        pl.col(_END).is_null() | (d <= pl.col(_END))
    )
    return joined.filter(pl.col(_FOUND).is_null() | in_tile).drop(
        [_EFF, _END, *(f"{k}_right" for k in right_on)], strict=False
    )


def with_duplicate_flag(checked: pl.LazyFrame) -> pl.LazyFrame:
    """Flag every copy of a (claim_id, line_number) that occurs more than once in the batch."""
    keys = [CLAIM_ID, LINE_NUMBER]
    dups = (
        checked.select(keys)
        .drop_nulls()
        .group_by(keys)
        .agg(pl.len().alias("_copies"))
        .filter(pl.col("_copies") > 1)
        .select(*keys, pl.lit(True).alias(FLAG_PREFIX + DUPLICATE_KEY))
    )
    return checked.join(dups, on=keys, how="left", maintain_order="left").with_columns(
        pl.col(FLAG_PREFIX + DUPLICATE_KEY).fill_null(False)
    )


def _is_in(column: str, values: Sequence[str]) -> pl.Expr:
    return pl.col(column).is_in(pl.Series(list(values), dtype=pl.String))


def with_edits(valid: pl.LazyFrame, rules: RuleSet) -> pl.LazyFrame:
    """Add ``edits`` and ``edit_carcs`` (lists, empty when none) from the add-on pairs and unit limits.

    Grain unchanged. Both edits look at all valid lines of the batch: the
    primaries present per (claim, service date), and the units per (member,
    service date, code). Only lines whose code a table names are aggregated.
    """
    pairs = rules.addon_pairs
    limits = rules.unit_limits
    flags: list[tuple[pl.Expr, pl.Expr, pl.Expr]] = []
    out = valid

    if pairs.height:
        addon_codes = pairs["addon_code"].unique().to_list()
        primaries = (
            valid.filter(_is_in(PROCEDURE_CODE, pairs["primary_code"].unique().to_list()))
            .select(CLAIM_ID, SERVICE_DATE, pl.col(PROCEDURE_CODE).alias("primary_code"))
            .unique()
            .join(pairs.lazy().select("addon_code", "primary_code"), on="primary_code")
            .select(CLAIM_ID, SERVICE_DATE, "addon_code", pl.lit(True).alias("_has_primary"))
            .unique()
        )
        out = out.join(
            primaries,
            left_on=[CLAIM_ID, SERVICE_DATE, PROCEDURE_CODE],
            right_on=[CLAIM_ID, SERVICE_DATE, "addon_code"],
            how="left",
            maintain_order="left",
        )
        edit_of = dict(zip(pairs["addon_code"], pairs["edit"], strict=True))
        code_of = dict(zip(pairs["addon_code"], pairs["group_code"] + "-" + pairs["carc"], strict=True))
        is_addon = _is_in(PROCEDURE_CODE, addon_codes)
        failed = is_addon & pl.col("_has_primary").is_null()
        flags.append((
            failed,
            pl.col(PROCEDURE_CODE).replace_strict(edit_of, default=None, return_dtype=pl.String),
            pl.col(PROCEDURE_CODE).replace_strict(code_of, default=None, return_dtype=pl.String),
        ))

    if limits.height:
        limited = limits["procedure_code"].to_list()
        totals = (
            valid.filter(_is_in(PROCEDURE_CODE, limited))
            .group_by(MEMBER_ID, SERVICE_DATE, PROCEDURE_CODE)
            .agg(pl.col(UNITS).sum().alias("_member_day_units"))
        )
        out = out.join(
            totals, on=[MEMBER_ID, SERVICE_DATE, PROCEDURE_CODE], how="left", maintain_order="left"
        )
        max_of = dict(zip(limits["procedure_code"], limits["max_units_per_member_day"], strict=True))
        edit_of = dict(zip(limits["procedure_code"], limits["edit"], strict=True))
        code_of = dict(
            zip(limits["procedure_code"], limits["group_code"] + "-" + limits["carc"], strict=True)
        )
        code = pl.col(PROCEDURE_CODE)
        failed = pl.col("_member_day_units") > code.replace_strict(
            max_of, default=None, return_dtype=pl.Int64
        )
        flags.append((
            failed,
            code.replace_strict(edit_of, default=None, return_dtype=pl.String),
            code.replace_strict(code_of, default=None, return_dtype=pl.String),
        ))

    def listed(items: list[pl.Expr]) -> pl.Expr:
        if not items:
            return pl.lit([], dtype=pl.List(pl.String))
        return pl.concat_list(items).list.drop_nulls()

    return out.with_columns(
        listed([pl.when(f.fill_null(False)).then(name) for f, name, _ in flags]).alias(EDITS),
        listed([pl.when(f.fill_null(False)).then(code) for f, _, code in flags]).alias(EDIT_CARCS),
    ).drop(["_has_primary", "_member_day_units"], strict=False)


_PLACEHOLDER = re.compile(r"\{(\w+)\}")
#: what a message template may name, and the column it reads
_MESSAGE_FIELDS = {
    "policy": "policy_id",
    "version": "policy_version",
    "source": "policy_source",
    "payer": PAYER_ID,
    "plan": PLAN_ID,
}


def _message(template: str) -> pl.Expr:
    names = _PLACEHOLDER.findall(template)
    unknown = [n for n in names if n not in _MESSAGE_FIELDS]
    if unknown:
        msg = f"reasons.csv: message placeholders {unknown} unknown; use {sorted(_MESSAGE_FIELDS)}"
        raise ValueError(msg)
    fmt = _PLACEHOLDER.sub("{}", template)
    return pl.format(fmt, *(pl.col(_MESSAGE_FIELDS[n]).fill_null("?") for n in names))


def _stance(name: str) -> pl.Expr:
    return pl.col("policy_stance") == name


def decide(lines: pl.LazyFrame, rules: RuleSet) -> pl.LazyFrame:
    """Add the decision table's columns (contract section 4) to valid, typed lines.

    Grain unchanged. Lines whose code no policy targets get NO_ACTION and null
    policy columns; the others take the first matching row of the table.
    """
    targeted = _is_in(PROCEDURE_CODE, rules.targeted_codes)
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
        pl.col("places_of_service")
        .str.split(";")
        .list.eval(pl.element().str.strip_chars())
        .alias("_policy_places"),
    )
    policy_payload = [c for c in policies.columns if c not in (
        "payer_id", "procedure_code", "effective_date", "end_date")]
    with_policy = join_in_effect(
        lines.with_columns(targeted.alias("_targeted")),
        policies,
        left_on=[pl.when(pl.col("_targeted")).then(pl.col(PAYER_ID)), pl.col(PROCEDURE_CODE)],
        right_on=["payer_id", "procedure_code"],
        date=SERVICE_DATE,
        payload=policy_payload,
    ).rename({_FOUND: "_policy_found"})

    plans = rules.plans.select(
        "plan_id",
        "effective_date",
        "end_date",
        pl.col("effective_date").alias("plan_version_effective_date"),
        pl.col("line_of_business").alias("plan_line_of_business"),
        pl.col("excludes_not_medically_necessary").alias("_plan_excludes_nmn"),
        pl.col("covers_work_hardening").alias("_plan_covers"),
    )
    plan_payload = [c for c in plans.columns if c not in ("plan_id", "effective_date", "end_date")]
    with_plan = join_in_effect(
        with_policy,
        plans,
        left_on=[pl.when(pl.col("_targeted")).then(pl.col(PLAN_ID))],
        right_on=["plan_id"],
        date=SERVICE_DATE,
        payload=plan_payload,
    ).rename({_FOUND: "_plan_found"})

    places = dict(zip(rules.places["place_of_service"], rules.places["setting"], strict=True))
    default_setting = places.pop(ANY_PLACE)
    pos = pl.col(PLACE_OF_SERVICE)
    setting = pos.replace_strict(places, default=pl.lit(default_setting), return_dtype=pl.String)
    tokens = pl.col("_policy_places")
    policy_applies = (
        tokens.is_null() | tokens.list.contains(pos.fill_null("")) | tokens.list.contains(setting)
    )
    policy_found = pl.col("_policy_found").fill_null(False)
    plan_found = pl.col("_plan_found").fill_null(False)
    conditions = {
        "MEDICARE_CARRIER_DISCRETION": (pl.col("plan_line_of_business") == "MEDICARE")
        | _stance("CARRIER_DISCRETION"),
        "NO_POLICY_IN_EFFECT": ~policy_found,
        "POLICY_SUPERSEDED": _stance("SUPERSEDED"),
        "POLICY_NOT_APPLICABLE": ~policy_applies,
        "PLAN_NOT_FOUND": ~plan_found,
        "PLAN_COVERS_SERVICE": pl.col("_plan_covers"),
        "BENEFIT_EXCLUSION": _stance("BENEFIT_EXCLUSION"),
        "NOT_MEDICALLY_NECESSARY": _stance("NOT_MEDICALLY_NECESSARY")
        & pl.col("_plan_excludes_nmn"),
        "NO_NMN_EXCLUSION_IN_PLAN": _stance("NOT_MEDICALLY_NECESSARY"),
    }
    assert tuple(conditions) == REASONS, "decision rows out of the contract's order"
    reason: pl.Expr = pl.lit(None, pl.String)
    for name in reversed(REASONS):
        reason = pl.when(conditions[name].fill_null(False)).then(pl.lit(name)).otherwise(reason)
    reason = pl.when(pl.col("_targeted")).then(reason)

    table = rules.reasons

    def lookup(column: str) -> pl.Expr:
        mapping = dict(zip(table["reason"], table[column], strict=True))
        return pl.col(REASON).replace_strict(mapping, default=None, return_dtype=pl.String)

    message: pl.Expr = pl.lit(None, pl.String)
    for row in table.iter_rows(named=True):
        message = pl.when(pl.col(REASON) == row["reason"]).then(_message(row["message"])).otherwise(
            message
        )
    policy_columns = [
        "policy_id", "policy_version", "policy_effective_date", "policy_end_date",
        "policy_stance", "policy_source",
    ]
    return (
        with_plan.with_columns(reason.alias(REASON))
        .with_columns(
            pl.when(pl.col("_targeted"))
            .then(lookup("determination"))
            .otherwise(pl.lit("NO_ACTION"))
            .alias(DETERMINATION),
            lookup("group_code").alias("group_code"),
            lookup("carc").alias("carc"),
            lookup("rarc").alias("rarc"),
            message.alias("message"),
            # a gap tile carries no policy: keep the policy columns null there
            *(pl.when(policy_found).then(pl.col(c)).alias(c) for c in policy_columns),
        )
        .drop(["_policy_places", "_plan_excludes_nmn", "_plan_covers", "_policy_found",
               "_plan_found", "_targeted"])
    )


def build(
    raw: pl.LazyFrame, rules: RuleSet, *, run_id: str, keep: pl.Expr | None = None
) -> Plan:
    """The whole run as two lazy outputs over one raw input frame.

    ``keep`` selects a slice over the typed canonical columns: rows where it is
    False are neither results nor rejects but ``skipped`` (counted per file);
    rows where it is null (a value the slice needs did not parse) stay in, so
    a bad row is never hidden as skipped.

    results: one row per valid line, every input column (typed canonical
    columns, extras untouched) plus ``DECISION_COLUMNS`` and ``run_id``.
    rejects: one row per invalid line, the original values as text, the
    ``failed_checks`` list and ``run_id``.
    """
    schema = raw.collect_schema()
    extras = [c for c in schema.names() if c not in CANONICAL and not c.startswith(REJECT_PREFIX)]
    typed = with_checks(raw)
    skipped = None
    if keep is not None:
        in_slice = keep.fill_null(True)
        skipped = typed.filter(~in_slice).group_by(SOURCE_FILE).agg(pl.len().alias("skipped"))
        typed = typed.filter(in_slice)
    checked = with_duplicate_flag(typed)
    flags = flag_columns(checked.collect_schema())
    checked = checked.with_columns(~any_failed(flags).alias(VALID))

    valid = checked.filter(pl.col(VALID))
    results = (
        with_edits(decide(valid, rules), rules)
        .with_columns(pl.lit(run_id).alias(RUN_ID))
        .select(*CANONICAL, *extras, *DECISION_COLUMNS, RUN_ID)
    )
    rejects = checked.filter(~pl.col(VALID)).select(
        *(pl.col(RAW_PREFIX + c).cast(pl.String).alias(c) for c in CANONICAL),
        *(pl.col(c).cast(pl.String) if c != SOURCE_FILE else pl.col(c) for c in extras),
        failed_check_names(flags).alias(FAILED_CHECKS),
        pl.lit(run_id).alias(RUN_ID),
    )
    return Plan(results=results, rejects=rejects, skipped=skipped)


__all__ = ["Plan", "build", "complete_versions", "decide", "join_in_effect", "with_edits"]
