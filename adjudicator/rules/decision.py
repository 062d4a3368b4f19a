"""The decision table (contract section 4): every verdict a line can get, evaluated once per run over the tiles.

``decision_table`` decides every (policy tile or none, plan tile or none,
place class) combination in the contract's order of reasons, with the
stances, determinations, codes and messages the rule tables give; the
place-of-service classes (``place_classes``) are the places that can decide
differently. ``compile_rules`` (``adjudicator.rules.compiled``) reads it.
"""

from __future__ import annotations

import polars as pl

from adjudicator.contract import (
    DETERMINATION,
    MESSAGE,
    NO_ACTION,
    PLACE_OF_SERVICE,
    PLAN_COLUMNS,
    POLICY_COLUMNS,
    REASON,
)
from adjudicator.errors import InternalError
from adjudicator.rules.schemas import REASONS
from adjudicator.rules.tables import ANY_PLACE, PLACEHOLDER, RuleSet
from adjudicator.rules.tiles import _EFF, _END, _FOUND, PLAN_KEYS, POLICY_KEYS

#: the column each message placeholder (``rules.MESSAGE_PLACEHOLDERS``) reads
_MESSAGE_FIELDS = {
    "policy": "policy_id",
    "version": "policy_version",
    "source": "policy_source",
}


def place_classes(rules: RuleSet, policy_tiles: pl.DataFrame) -> tuple[list[str | None], list[str]]:
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
        .drop(*POLICY_KEYS, _EFF, _END)
        .rename({_FOUND: "_policy_found"})
    )
    plan_side = (
        pl.concat([plan_tiles.clear(1), plan_tiles], how="vertical_relaxed")
        .drop(*PLAN_KEYS, _EFF, _END)
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
        raise InternalError("decision table is not the full product")
    decided = _decide_frame(combos, rules)
    no_action = decided.clear(1).with_columns(pl.lit(NO_ACTION).alias(DETERMINATION))
    return pl.concat([decided, no_action])


def _reason(policy_found: pl.Expr, plan_found: pl.Expr) -> pl.Expr:
    """Each combination's reason: the first of the contract's conditions it meets, in the contract's order."""
    tokens = pl.col("_policy_places")
    policy_applies = (
        tokens.is_null()
        | tokens.list.contains(pl.col(PLACE_OF_SERVICE).fill_null(""))
        | tokens.list.contains(pl.col("_setting"))
    )
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
        raise InternalError("decision rows out of the contract's order")
    reason: pl.Expr = pl.lit(None, pl.String)
    for name in reversed(REASONS):
        reason = pl.when(conditions[name].fill_null(False)).then(pl.lit(name)).otherwise(reason)
    return reason


def _decide_frame(combos: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """The decision table's rows, in the contract's order, over every combination (small frame)."""
    policy_found = pl.col("_policy_found").fill_null(False)
    plan_found = pl.col("_plan_found").fill_null(False)
    table = rules.reasons

    def lookup(column: str) -> pl.Expr:
        mapping = dict(zip(table["reason"], table[column], strict=True))
        return pl.col(REASON).replace_strict(mapping, default=None, return_dtype=pl.String)

    message: pl.Expr = pl.lit(None, pl.String)
    for row in table.iter_rows(named=True):
        message = pl.when(pl.col(REASON) == row["reason"]).then(_message(row["message"])).otherwise(message)
    return (
        combos.with_columns(_reason(policy_found, plan_found).alias(REASON))
        .with_columns(
            lookup("determination").alias(DETERMINATION),
            lookup("group_code").alias("group_code"),
            lookup("carc").alias("carc"),
            lookup("rarc").alias("rarc"),
            message.alias(MESSAGE),
            # a gap tile carries no version: keep its columns null
            *(pl.when(policy_found).then(pl.col(c)).alias(c) for c in POLICY_COLUMNS),
            *(pl.when(plan_found).then(pl.col(c)).alias(c) for c in PLAN_COLUMNS),
        )
        .select(DETERMINATION, REASON, *POLICY_COLUMNS, *PLAN_COLUMNS, "group_code", "carc", "rarc", MESSAGE)
    )


def _message(template: str) -> pl.Expr:
    """The message of a reasons.csv template; its placeholders were checked when the table was loaded."""
    names = PLACEHOLDER.findall(template)
    fmt = PLACEHOLDER.sub("{}", template)
    return pl.format(fmt, *(pl.col(_MESSAGE_FIELDS[n]).fill_null("?") for n in names))


def _stance(name: str) -> pl.Expr:
    return pl.col("policy_stance") == name


__all__ = ["decision_table", "place_classes"]
