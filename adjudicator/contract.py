"""The canonical claim-line layout (domain contract section 2) and the raw-frame protocol readers follow.

Every reader (canonical CSV/Parquet, and each payer/CMS layout) produces a *raw
frame*: a LazyFrame with

- the ten canonical columns below, each either String (raw text, null when the
  file had no value) or already the canonical dtype (a typed Parquet file);
- any extra columns of the file, untouched (they pass through to results);
- ``SOURCE_FILE``: the path of the file the row came from (String);
- optionally ``REJECT_PREFIX + check`` Boolean columns for row-level checks a
  layout knows about (for example ``superseded_delivery`` in CCLF); a True
  there sends the row to rejects with that check named.

Validation (``adjudicator.engine.checks``) turns a raw frame into typed columns plus
one yes/no flag per failed check.
"""

from __future__ import annotations

from typing import Final

import polars as pl

CLAIM_ID: Final = "claim_id"
LINE_NUMBER: Final = "line_number"
MEMBER_ID: Final = "member_id"
PAYER_ID: Final = "payer_id"
PLAN_ID: Final = "plan_id"
SERVICE_DATE: Final = "service_date"
PROCEDURE_CODE: Final = "procedure_code"
UNITS: Final = "units"
BILLED_AMOUNT: Final = "billed_amount"
PLACE_OF_SERVICE: Final = "place_of_service"

#: canonical column -> (dtype after validation, required)
CANONICAL: Final[dict[str, tuple[pl.DataType, bool]]] = {
    CLAIM_ID: (pl.String(), True),
    LINE_NUMBER: (pl.Int64(), True),
    MEMBER_ID: (pl.String(), True),
    PAYER_ID: (pl.String(), True),
    PLAN_ID: (pl.String(), False),
    SERVICE_DATE: (pl.Date(), True),
    PROCEDURE_CODE: (pl.String(), True),
    UNITS: (pl.Int64(), True),
    BILLED_AMOUNT: (pl.Decimal(18, 2), True),
    PLACE_OF_SERVICE: (pl.String(), False),
}
CANONICAL_COLUMNS: Final = tuple(CANONICAL)
REQUIRED_COLUMNS: Final = tuple(c for c, (_, req) in CANONICAL.items() if req)

#: column naming the input file of each row (kept in results and rejects)
SOURCE_FILE: Final = "source_file"
#: prefix of layout-supplied Boolean reject columns: ``_reject_<check name>``
REJECT_PREFIX: Final = "_reject_"
#: the layouts' row-level reject checks (a ``REJECT_PREFIX`` flag each) and what a True flag means
X12_CLAIM_UNKNOWN: Final = "x12_claim_unknown"
X12_LINE_NUMBER_UNKNOWN: Final = "x12_line_number_unknown"
X12_SEGMENT_CUT_OFF: Final = "x12_segment_cut_off"
#: the 837P reader's row-level reject checks
X12_REJECT_CHECKS: Final = (X12_CLAIM_UNKNOWN, X12_LINE_NUMBER_UNKNOWN, X12_SEGMENT_CUT_OFF)
LAYOUT_REJECT_CHECKS: Final = {
    "superseded_delivery": "a later delivery of the same line replaces this copy (CCLF)",
    "deleted_record": "the record withdraws the line (RIF DML_IND DELETE)",
    X12_CLAIM_UNKNOWN: "the 837P service line has no claim: no CLM opens it in its transaction set",
    X12_LINE_NUMBER_UNKNOWN: "the 837P service line has no line number: no LX of its own opens the SV1",
    X12_SEGMENT_CUT_OFF: "the 837P file ends inside this SV1 segment (no segment terminator): its values may be cut",
}

# ---- the outputs (contract section 6): column names other modules read without importing the engine ----

DETERMINATION: Final = "determination"
REASON: Final = "reason"
EDITS: Final = "edits"
EDIT_CARCS: Final = "edit_carcs"
FAILED_CHECKS: Final = "failed_checks"
RUN_ID: Final = "run_id"
MESSAGE: Final = "message"

#: columns the decision adds to each valid line, in output order
DECISION_COLUMNS: Final = (
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
    MESSAGE,
)
#: the decision columns a policy version gives a line, and those a plan version gives (null when none is in effect)
POLICY_COLUMNS: Final = tuple(c for c in DECISION_COLUMNS if c.startswith("policy_"))
PLAN_COLUMNS: Final = tuple(c for c in DECISION_COLUMNS if c.startswith("plan_"))
NO_ACTION: Final = "NO_ACTION"
#: the determinations a valid line gets, in the order the rules, the diff and the report list them
DETERMINATIONS: Final = ("NOT_MEDICALLY_NECESSARY", "BENEFIT_PLAN_REVIEW", NO_ACTION)

#: the diff's changes.parquet: what changed for a key, and which result fields changed (``adjudicator.diff.compare``)
CHANGE_KIND: Final = "change_kind"
CHANGED_FIELDS: Final = "changed_fields"
#: the diff's labels of a side that has no result for a key, in its matrix and in the report's charts
ABSENT_LABEL: Final = "(absent)"
REJECTED_LABEL: Final = "(rejected)"
