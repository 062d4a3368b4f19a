"""The declared layouts: ``LAYOUT_SPECS``, one ``Layout`` value per ``--layout`` name (data, not code)."""

from __future__ import annotations

from typing import Final

from adjudicator.contract import (
    BILLED_AMOUNT,
    CANONICAL_COLUMNS,
    CLAIM_ID,
    LAYOUT_REJECT_CHECKS,
    LINE_NUMBER,
    MEMBER_ID,
    PAYER_ID,
    PLACE_OF_SERVICE,
    PLAN_ID,
    PROCEDURE_CODE,
    REQUIRED_COLUMNS,
    SERVICE_DATE,
    UNITS,
    X12_REJECT_CHECKS,
)
from adjudicator.readers.specs import (
    CANONICAL_LAYOUT,
    CCLF5,
    RIF_CARRIER,
    SYNPUF_CARRIER,
    X12_837P,
    Layout,
    RedeliveryRule,
    RejectWhen,
    Slots,
    Source,
)


def _col(*columns: str, normalize: str = "as_is") -> Source:
    return Source(columns=columns, normalize=normalize)


def _const(value: str | None) -> Source:
    return Source(constant=value)


_MEDICARE = "MEDICARE"

#: every layout, keyed by its ``--layout`` name; the one place a layout is declared
LAYOUT_SPECS: Final[dict[str, Layout]] = {
    CANONICAL_LAYOUT: Layout(
        name=CANONICAL_LAYOUT,
        description="The contract's own layout (domain.md section 2), CSV or Parquet",
        grain="one row per claim line",
        format="table",
        mapping={c: _col(c) for c in CANONICAL_COLUMNS},
        required_columns=REQUIRED_COLUMNS,
        extensions=(".csv", ".parquet", ".pq"),
        signature=REQUIRED_COLUMNS,
        notes=(
            "Read by adjudicator.readers.canonical: CSV columns as text (types are the validator's job), Parquet "
            "columns keep their types.",
            "Missing optional columns (plan_id, place_of_service) are added as null.",
        ),
    ),
    CCLF5: Layout(
        name=CCLF5,
        description="CMS Claim and Claim Line Feed, Part B physician file (CCLF5), as CSV with its column names",
        grain="one row per claim line per delivery (CUR_CLM_UNIQ_ID, CLM_LINE_NUM, FILE_DATE)",
        format="table",
        mapping={
            CLAIM_ID: _col("CUR_CLM_UNIQ_ID"),
            LINE_NUMBER: _col("CLM_LINE_NUM", normalize="unpad_number"),
            MEMBER_ID: _col("BENE_MBI_ID"),
            PAYER_ID: _const(_MEDICARE),
            PLAN_ID: _const(None),
            SERVICE_DATE: _col("CLM_LINE_FROM_DT", normalize="date_yyyymmdd"),
            PROCEDURE_CODE: _col("CLM_LINE_HCPCS_CD"),
            UNITS: _col("CLM_LINE_SRVC_UNIT_QTY", normalize="unpad_number"),
            BILLED_AMOUNT: _col("CLM_LINE_ALOWD_CHRG_AMT", normalize="unpad_number"),
            PLACE_OF_SERVICE: _col("CLM_POS_CD"),
        },
        required_columns=(
            "CUR_CLM_UNIQ_ID",
            "CLM_LINE_NUM",
            "BENE_MBI_ID",
            "CLM_LINE_FROM_DT",
            "CLM_LINE_HCPCS_CD",
            "CLM_LINE_SRVC_UNIT_QTY",
            "CLM_LINE_ALOWD_CHRG_AMT",
            "FILE_DATE",
        ),
        null_tokens=("~",),
        signature=("CUR_CLM_UNIQ_ID", "CLM_LINE_NUM", "CLM_LINE_HCPCS_CD"),
        supersede=RedeliveryRule(
            check="superseded_delivery",
            key=(CLAIM_ID, LINE_NUMBER),
            order_by="FILE_DATE",
            description="a later delivery (FILE_DATE) of the same CUR_CLM_UNIQ_ID and CLM_LINE_NUM replaces this copy "
            "(compared as the duplicate check compares keys: trimmed, the line number as a number, so a padded id or "
            "a line written 1.0 is the same line)",
        ),
        notes=(
            "CCLF5 carries no submitted charge: billed_amount is the allowed charge CLM_LINE_ALOWD_CHRG_AMT.",
            "FILE_DATE is YYYY-MM-DD or YYYYMMDD; copies of one line with equal or unreadable FILE_DATEs are "
            "all kept, and so rejected as duplicate_key: the feed does not say which one is current.",
            "CLM_ADJSMT_TYPE_CD (0 original, 1 cancellation, 2 adjustment) passes through; a cancellation "
            "delivered later supersedes the original like any later copy, and is itself adjudicated.",
        ),
    ),
    RIF_CARRIER: Layout(
        name=RIF_CARRIER,
        description="CMS RIF carrier claim lines (as served by the Blue Button / BFD pipeline), pipe-delimited",
        grain="one row per claim line (CLM_ID, LINE_NUM)",
        format="table",
        mapping={
            CLAIM_ID: _col("CLM_ID"),
            LINE_NUMBER: _col("LINE_NUM"),
            MEMBER_ID: _col("BENE_ID"),
            PAYER_ID: _const(_MEDICARE),
            PLAN_ID: _const(None),
            SERVICE_DATE: _col("LINE_1ST_EXPNS_DT", "CLM_FROM_DT", normalize="date_dd_mon_yyyy"),
            PROCEDURE_CODE: _col("HCPCS_CD"),
            UNITS: _col("LINE_SRVC_CNT"),
            BILLED_AMOUNT: _col("LINE_SBMTD_CHRG_AMT"),
            PLACE_OF_SERVICE: _col("LINE_PLACE_OF_SRVC_CD"),
        },
        required_columns=(
            "CLM_ID",
            "LINE_NUM",
            "BENE_ID",
            "LINE_1ST_EXPNS_DT",
            "HCPCS_CD",
            "LINE_SRVC_CNT",
            "LINE_SBMTD_CHRG_AMT",
        ),
        separator="|",
        quote_char=None,
        extensions=(".txt", ".rif", ".dat"),
        signature=("CLM_ID", "LINE_NUM", "HCPCS_CD", "LINE_SBMTD_CHRG_AMT"),
        rejects=(
            RejectWhen(
                check="deleted_record",
                column="DML_IND",
                values=("DELETE",),
                description="the RIF record withdraws the line (DML_IND is DELETE)",
            ),
        ),
        notes=(
            "service_date is the line's first expense date, else the claim's CLM_FROM_DT.",
            "DML_IND INSERT and UPDATE rows are lines; DELETE rows go to rejects as deleted_record.",
        ),
    ),
    SYNPUF_CARRIER: Layout(
        name=SYNPUF_CARRIER,
        description="CMS DE-SynPUF carrier claims: one row per claim with 13 line slots",
        grain="one row per non-empty HCPCS_CD_n slot of a claim (CLM_ID, slot n)",
        format="table",
        mapping={
            CLAIM_ID: _col("CLM_ID"),
            LINE_NUMBER: _col("LINE_SLOT"),
            MEMBER_ID: _col("DESYNPUF_ID"),
            PAYER_ID: _const(_MEDICARE),
            PLAN_ID: _const(None),
            SERVICE_DATE: _col("CLM_FROM_DT", normalize="date_yyyymmdd"),
            PROCEDURE_CODE: _col("HCPCS_CD"),
            UNITS: _const("1"),
            BILLED_AMOUNT: _col("LINE_ALOWD_CHRG_AMT"),
            PLACE_OF_SERVICE: _const(None),
        },
        required_columns=("DESYNPUF_ID", "CLM_ID", "CLM_FROM_DT"),
        signature=("DESYNPUF_ID", "CLM_ID", "HCPCS_CD_1"),
        slots=Slots(
            count=13,
            stems=(
                "PRF_PHYSN_NPI",
                "TAX_NUM",
                "HCPCS_CD",
                "LINE_NCH_PMT_AMT",
                "LINE_BENE_PTB_DDCTBL_AMT",
                "LINE_BENE_PRMRY_PYR_PD_AMT",
                "LINE_COINSRNC_AMT",
                "LINE_ALOWD_CHRG_AMT",
                "LINE_PRCSG_IND_CD",
                "LINE_ICD9_DGNS_CD",
            ),
            required_stems=("HCPCS_CD", "LINE_ALOWD_CHRG_AMT"),
            present="HCPCS_CD",
            number_column="LINE_SLOT",
        ),
        notes=(
            "DE-SynPUF has no submitted charge per line: billed_amount is the allowed charge LINE_ALOWD_CHRG_AMT_n.",
            "Lines have no date, units or place of service of their own: service_date is the claim's "
            "CLM_FROM_DT, units 1, place_of_service null.",
        ),
    ),
    X12_837P: Layout(
        name=X12_837P,
        description="ASC X12 005010X222A2 professional claims (837P)",
        grain="one row per SV1 service line (2400 loop): CLM01, LX01",
        format="x12",
        mapping={
            CLAIM_ID: _col("CLM01"),
            LINE_NUMBER: _col("LX01"),
            MEMBER_ID: _col("NM109_IL"),
            PAYER_ID: _col("NM109_PR"),
            PLAN_ID: _col("SBR03"),
            SERVICE_DATE: _col("DTP03_472_LINE", "DTP03_472_CLAIM", normalize="x12_date_period"),
            PROCEDURE_CODE: _col("SV101_2", "SV101"),
            UNITS: _col("SV104"),
            BILLED_AMOUNT: _col("SV102"),
            PLACE_OF_SERVICE: _col("SV105", "CLM05_1"),
        },
        extensions=(".837", ".x12", ".edi"),
        notes=(
            "NM109_IL and NM109_PR are the subscriber's (2010BA) and payer's (2010BB) identifiers, and SBR03 "
            "the subscriber's group number (2000B); the other-payer loops of coordination of benefits "
            "(2320/2330x) are not used.",
            "A date range (RD8) gives its first day. An SV101 that does not split on the component "
            "separator of ISA16 is passed whole, so the line is rejected as malformed_procedure_code.",
            "Row-level rejects the reader flags: "
            + "; ".join(f"`{c}`: {LAYOUT_REJECT_CHECKS[c]}" for c in X12_REJECT_CHECKS)
            + ".",
            "Envelope defects that leave the service lines readable (HL or LX numbering, control numbers or "
            "counts that do not match, repeated control numbers, an empty segment, missing trailers) are read "
            "past and listed per file in the manifest (inputs[].envelope_defects) and the report.",
        ),
    ),
}
