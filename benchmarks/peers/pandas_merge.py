"""pandas baseline: the decision table the naive way, whole file in memory, merge then filter.

Each range join is an equality merge on the key followed by a filter on the
date range, then merged back onto the lines by row number so that lines
without a match survive. No validation, no edits. Meant for small scales only
(the runner stops it above --pandas-max-lines).
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from benchmarks._rules import PLACES, PLANS, POLICIES, REASONS, rules_dir
from benchmarks.peers import input_format, parse_args

RUN_ID = "pandas-peer"
OPEN_START = pd.Timestamp("1677-09-22")
OPEN_END = pd.Timestamp("2262-04-11")


def _read_claims(path: str, fmt: str) -> pd.DataFrame:
    if fmt == "parquet":
        claims = pd.read_parquet(path)
        claims["service_date"] = pd.to_datetime(claims["service_date"])
        return claims
    claims = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    claims["service_date"] = pd.to_datetime(claims["service_date"], format="%Y-%m-%d", errors="coerce")
    # units stay float: "1.5" parses, and nulls need no nullable-integer dtype
    for column in ("line_number", "units", "billed_amount"):
        claims[column] = pd.to_numeric(claims[column], errors="coerce")
    return claims


def _in_effect(claims: pd.DataFrame, table: pd.DataFrame, keys: list[str], columns: list[str]) -> pd.DataFrame:
    """`columns` of the row of `table` in effect for each line (merge on keys, filter dates)."""
    merged = claims[["_row", "service_date", *keys]].merge(table, on=keys, how="inner")
    merged = merged[(merged["service_date"] >= merged["valid_from"]) & (merged["service_date"] <= merged["valid_to"])]
    return claims[["_row"]].merge(merged[["_row", *columns]], on="_row", how="left")


def _dated(table: pd.DataFrame) -> pd.DataFrame:
    for column in ("effective_date", "end_date"):
        table[column] = pd.to_datetime(table[column], format="%Y-%m-%d")
    table["valid_from"] = table["effective_date"].fillna(OPEN_START)
    table["valid_to"] = table["end_date"].fillna(OPEN_END)
    return table


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__.splitlines()[0], argv)
    rules = rules_dir(args.rules)
    policies = _dated(pd.read_csv(rules / POLICIES, dtype=str))
    plans = _dated(pd.read_csv(rules / PLANS, dtype=str))
    for flag in ("excludes_not_medically_necessary", "covers_work_hardening"):
        plans[flag] = plans[flag].str.lower() == "true"
    places = pd.read_csv(rules / PLACES, dtype=str)
    reasons = pd.read_csv(rules / REASONS, dtype=str)

    claims = _read_claims(str(args.input), input_format(args.input))
    claims["_row"] = np.arange(len(claims))

    policy = _in_effect(
        claims,
        policies.rename(columns={"version": "policy_version", "source": "policy_source"}),
        ["payer_id", "procedure_code"],
        [
            "policy_id",
            "policy_version",
            "stance",
            "places_of_service",
            "policy_source",
            "effective_date",
            "end_date",
        ],
    ).rename(columns={"effective_date": "policy_effective_date", "end_date": "policy_end_date"})
    plan = _in_effect(
        claims,
        plans,
        ["plan_id"],
        ["line_of_business", "excludes_not_medically_necessary", "covers_work_hardening"],
    ).rename(columns={"line_of_business": "plan_line_of_business"})
    plan["plan_found"] = plan["plan_line_of_business"].notna()
    lines = claims.merge(policy, on="_row", how="left").merge(plan, on="_row", how="left")

    wildcard = places.loc[places["place_of_service"] == "*", "setting"]
    setting_of = dict(zip(places["place_of_service"], places["setting"], strict=True))
    lines["setting"] = lines["place_of_service"].map(setting_of)
    lines["setting"] = lines["setting"].fillna(wildcard.iloc[0] if len(wildcard) else None)

    limited = lines["places_of_service"].fillna("") != ""
    pos_excluded = np.zeros(len(lines), dtype=bool)
    pos_excluded[limited.to_numpy()] = [
        pos not in allowed and setting not in allowed
        for allowed, pos, setting in zip(
            lines.loc[limited, "places_of_service"].str.split(";"),
            lines.loc[limited, "place_of_service"],
            lines.loc[limited, "setting"],
            strict=True,
        )
    ]
    targeted = lines["procedure_code"].isin(set(policies["procedure_code"]))
    stance = lines["stance"]
    covers = lines["covers_work_hardening"].fillna(False).astype(bool)
    excludes = lines["excludes_not_medically_necessary"].fillna(False).astype(bool)
    conditions = [
        ~targeted,
        (lines["plan_line_of_business"] == "MEDICARE") | (stance == "CARRIER_DISCRETION"),
        lines["policy_id"].isna(),
        stance == "SUPERSEDED",
        pos_excluded,
        ~lines["plan_found"].fillna(False).astype(bool),
        covers,
        stance == "BENEFIT_EXCLUSION",
        (stance == "NOT_MEDICALLY_NECESSARY") & excludes,
        stance == "NOT_MEDICALLY_NECESSARY",
    ]
    choices = [
        "",
        "MEDICARE_CARRIER_DISCRETION",
        "NO_POLICY_IN_EFFECT",
        "POLICY_SUPERSEDED",
        "POLICY_NOT_APPLICABLE",
        "PLAN_NOT_FOUND",
        "PLAN_COVERS_SERVICE",
        "BENEFIT_EXCLUSION",
        "NOT_MEDICALLY_NECESSARY",
        "NO_NMN_EXCLUSION_IN_PLAN",
    ]
    lines["reason"] = np.select(conditions, choices, default="")
    lines["reason"] = lines["reason"].replace("", None)
    lines["determination"] = np.where(
        lines["reason"].isna(),
        "NO_ACTION",
        np.where(
            lines["reason"] == "NOT_MEDICALLY_NECESSARY",
            "NOT_MEDICALLY_NECESSARY",
            "BENEFIT_PLAN_REVIEW",
        ),
    )
    lines = lines.merge(reasons[["reason", "group_code", "carc", "rarc", "message"]], on="reason", how="left")
    decided = lines["message"].notna()
    lines.loc[decided, "message"] = [
        template.replace("{policy}", str(policy_id or ""))
        .replace("{version}", str(version or ""))
        .replace("{source}", str(source or ""))
        .replace("{payer}", str(payer or ""))
        for template, policy_id, version, source, payer in zip(
            lines.loc[decided, "message"],
            lines.loc[decided, "policy_id"].fillna(""),
            lines.loc[decided, "policy_version"].fillna(""),
            lines.loc[decided, "policy_source"].fillna(""),
            lines.loc[decided, "payer_id"].fillna(""),
            strict=True,
        )
    ]
    lines["run_id"] = RUN_ID
    lines = lines.sort_values("_row").drop(
        columns=[
            "_row",
            "stance",
            "places_of_service",
            "policy_source",
            "plan_line_of_business",
            "excludes_not_medically_necessary",
            "covers_work_hardening",
            "plan_found",
            "setting",
        ]
    )
    lines.to_parquet(args.outdir / "results.parquet", index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
