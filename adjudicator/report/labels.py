"""Plain-language labels of the contract's codes, shown next to the codes in the reports: one table, ``LABELS``.

The codes themselves (determinations, reasons, edits, reject checks) are the
contract's and the rules' (``adjudicator.contract``, ``adjudicator.rules``);
how a reader is told what they mean is presentation, and lives here. A test
checks that every determination and every reason has a label.
"""

from __future__ import annotations

from typing import Any, Final

#: code -> plain-language label (determinations, reasons, edits, reject checks); a determination and a reason
#: that share a code share its label
LABELS: Final[dict[str, str]] = {
    # determinations (adjudicator.contract.DETERMINATIONS)
    "NOT_MEDICALLY_NECESSARY": "Not medically necessary",
    "BENEFIT_PLAN_REVIEW": "Review under the benefit plan",
    "NO_ACTION": "No action",
    # reasons (adjudicator.rules.schemas.REASONS), in the decision table's order
    "MEDICARE_CARRIER_DISCRETION": "Medicare: the local carrier decides",
    "NO_POLICY_IN_EFFECT": "No policy version in effect on the date of service",
    "POLICY_SUPERSEDED": "Policy superseded, its text not on file",
    "POLICY_NOT_APPLICABLE": "Policy not for this place of service",
    "PLAN_NOT_FOUND": "No benefit plan in effect on the date of service",
    "PLAN_COVERS_SERVICE": "The member's plan covers the service",
    "BENEFIT_EXCLUSION": "Benefit exclusion",
    "NO_NMN_EXCLUSION_IN_PLAN": "Not medically necessary, but the plan has no such exclusion",
    # edits (rules/addon_pairs.csv, rules/unit_limits.csv)
    "ADDON_WITHOUT_PRIMARY": "Add-on code billed without its primary code",
    "UNITS_EXCEED_DAILY_LIMIT": "Units over the daily limit",
    # reject checks (adjudicator.engine.checks), those not named after a column
    "duplicate_key": "Duplicate claim line",
    "line_number_below_1": "Line number below 1",
    "malformed_procedure_code": "Procedure code not 5 letters or digits",
    "units_below_1": "Units below 1",
    "negative_billed_amount": "Negative billed amount",
    "malformed_place_of_service": "Place of service not 2 digits",
}

#: what a result line without a reason means (NO_ACTION: no policy of the run targets its procedure code)
NO_REASON: Final = "No policy targets the procedure code"

#: checks named after the column they test: ``missing_<column>``, ``unparseable_<column>``
_CHECK_PREFIXES: Final = (("missing_", "Missing {}"), ("unparseable_", "Unreadable {}"))


def label(code: Any) -> str:
    """The plain-language label of a code; a code with none is its own label (``NO_REASON`` for null)."""
    if code is None or code == "":
        return NO_REASON
    text = str(code)
    if text in LABELS:
        return LABELS[text]
    for prefix, shape in _CHECK_PREFIXES:
        if text.startswith(prefix):
            return shape.format(text.removeprefix(prefix).replace("_", " "))
    return text


def labelled(code: Any) -> str:
    """``"Label (CODE)"``, e.g. ``"Benefit exclusion (BENEFIT_EXCLUSION)"``; a code without a label as it is."""
    if code is None or code == "":
        return NO_REASON
    shown = label(code)
    return str(code) if shown == str(code) else f"{shown} ({code})"


__all__ = ["LABELS", "NO_REASON", "label", "labelled"]
