"""DuckDB peer: the decision table of contract section 4 as one SQL query with BETWEEN range joins.

A competent analyst's hand-written version: it reads the same rule tables as
the engine (policies, plans, places of service, reason messages), applies no
validation and no edits, and writes Parquet with COPY ... TO. CSV input is
read as text and cast with TRY_CAST, so a malformed value becomes NULL instead
of stopping the query. Grain of the output: one row per input row.

DuckDB 2.0 pushes TRY_CAST into the CSV reader as a strict cast, which then
fails on the first bad cell (duckdb/duckdb#23818, open); the peer turns off
that one optimizer (`type_pushdown`) for CSV input rather than add string work.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import duckdb

from benchmarks._rules import PLACES, PLANS, POLICIES, REASONS, rules_dir
from benchmarks.peers import input_format, parse_args

RUN_ID = "duckdb-peer"

CLAIMS_PARQUET = "SELECT * FROM read_parquet({input})"
#: every canonical column cast to its contract type; extra columns would follow as text
CLAIMS_CSV = """
SELECT * REPLACE (
    TRY_CAST(line_number AS BIGINT) AS line_number,
    TRY_CAST(service_date AS DATE) AS service_date,
    TRY_CAST(units AS BIGINT) AS units,
    TRY_CAST(billed_amount AS DECIMAL(18, 2)) AS billed_amount
)
FROM read_csv({input}, header = true, all_varchar = true)
"""

QUERY = """
WITH
claims AS ({claims}),
policies AS (
    SELECT payer_id, policy_id, version, procedure_code, stance, source,
           places_of_service,
           CAST(effective_date AS DATE) AS policy_effective_date,
           CAST(end_date AS DATE) AS policy_end_date,
           coalesce(CAST(effective_date AS DATE), DATE '0001-01-01') AS valid_from,
           coalesce(CAST(end_date AS DATE), DATE '9999-12-31') AS valid_to
    FROM read_csv({policies}, header = true, all_varchar = true)
),
targeted AS (SELECT DISTINCT procedure_code FROM policies),
plans AS (
    SELECT plan_id, line_of_business,
           excludes_not_medically_necessary, covers_work_hardening,
           coalesce(effective_date, DATE '0001-01-01') AS valid_from,
           coalesce(end_date, DATE '9999-12-31') AS valid_to
    FROM read_csv({plans}, header = true,
                  types = {{'effective_date': 'DATE', 'end_date': 'DATE',
                           'excludes_not_medically_necessary': 'BOOLEAN',
                           'covers_work_hardening': 'BOOLEAN'}})
),
places AS (
    SELECT place_of_service, setting
    FROM read_csv({places}, header = true, all_varchar = true)
),
reasons AS (
    SELECT reason, group_code, carc, rarc, message
    FROM read_csv({reasons}, header = true, all_varchar = true)
),
joined AS (
    SELECT c.*,
           t.procedure_code IS NOT NULL AS is_targeted,
           p.policy_id, p.version AS policy_version, p.stance, p.source AS policy_source,
           p.policy_effective_date, p.policy_end_date,
           string_split(p.places_of_service, ';') AS policy_places,
           pl.plan_id IS NOT NULL AS plan_found,
           pl.line_of_business, pl.excludes_not_medically_necessary, pl.covers_work_hardening,
           coalesce(pos.setting,
                    (SELECT setting FROM places WHERE place_of_service = '*')) AS setting
    FROM claims c
    LEFT JOIN targeted t ON c.procedure_code = t.procedure_code
    LEFT JOIN policies p
           ON c.payer_id = p.payer_id
          AND c.procedure_code = p.procedure_code
          AND c.service_date BETWEEN p.valid_from AND p.valid_to
    LEFT JOIN plans pl
           ON c.plan_id = pl.plan_id
          AND c.service_date BETWEEN pl.valid_from AND pl.valid_to
    LEFT JOIN places pos ON c.place_of_service = pos.place_of_service
),
decided AS (
    SELECT *,
        CASE
            WHEN NOT is_targeted THEN NULL
            WHEN line_of_business = 'MEDICARE' OR stance = 'CARRIER_DISCRETION'
                THEN 'MEDICARE_CARRIER_DISCRETION'
            WHEN policy_id IS NULL THEN 'NO_POLICY_IN_EFFECT'
            WHEN stance = 'SUPERSEDED' THEN 'POLICY_SUPERSEDED'
            WHEN coalesce(len(policy_places), 0) > 0
                 AND NOT list_contains(policy_places, place_of_service)
                 AND NOT list_contains(policy_places, setting)
                THEN 'POLICY_NOT_APPLICABLE'
            WHEN NOT plan_found THEN 'PLAN_NOT_FOUND'
            WHEN covers_work_hardening THEN 'PLAN_COVERS_SERVICE'
            WHEN stance = 'BENEFIT_EXCLUSION' THEN 'BENEFIT_EXCLUSION'
            WHEN stance = 'NOT_MEDICALLY_NECESSARY' AND excludes_not_medically_necessary
                THEN 'NOT_MEDICALLY_NECESSARY'
            WHEN stance = 'NOT_MEDICALLY_NECESSARY' THEN 'NO_NMN_EXCLUSION_IN_PLAN'
        END AS reason
    FROM joined
)
SELECT d.* EXCLUDE (is_targeted, stance, policy_source, policy_places, plan_found,
                    line_of_business, excludes_not_medically_necessary,
                    covers_work_hardening, setting, reason),
       CASE
           WHEN d.reason IS NULL THEN 'NO_ACTION'
           WHEN d.reason = 'NOT_MEDICALLY_NECESSARY' THEN 'NOT_MEDICALLY_NECESSARY'
           ELSE 'BENEFIT_PLAN_REVIEW'
       END AS determination,
       d.reason,
       r.group_code, r.carc, r.rarc,
       replace(replace(replace(replace(r.message,
           '{{policy}}', coalesce(d.policy_id, '')),
           '{{version}}', coalesce(d.policy_version, '')),
           '{{source}}', coalesce(d.policy_source, '')),
           '{{payer}}', coalesce(d.payer_id, '')) AS message,
       '{run_id}' AS run_id
FROM decided d
LEFT JOIN reasons r ON d.reason = r.reason
"""


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def build_query(input_path: Path, rules: Path) -> str:
    """The whole peer as one SELECT over `input_path` and the tables in `rules`."""
    claims = CLAIMS_PARQUET if input_format(input_path) == "parquet" else CLAIMS_CSV
    return QUERY.format(
        claims=claims.format(input=_literal(input_path)),
        policies=_literal(rules / POLICIES),
        plans=_literal(rules / PLANS),
        places=_literal(rules / PLACES),
        reasons=_literal(rules / REASONS),
        run_id=RUN_ID,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__.splitlines()[0], argv)
    query = build_query(args.input, rules_dir(args.rules))
    connection = duckdb.connect()
    connection.execute(f"SET threads = {args.threads or os.cpu_count() or 1}")
    if input_format(args.input) == "csv":
        connection.execute("SET disabled_optimizers = 'type_pushdown'")
    out = _literal(args.outdir / "results.parquet")
    connection.execute(f"COPY ({query}) TO {out} (FORMAT parquet, COMPRESSION zstd)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
