"""Regenerate sample_claims/claims.csv: a few hundred realistic canonical lines (run from the repo root).

Deterministic (fixed seed). Covers every payer of the rule tables plus an
unknown one, both codes, other codes, each version boundary of
rules/medical_policies.csv (day before, first day, last day, day after), the
plans of rules/plans.csv plus unknown and missing plans, inpatient and
outpatient places of service, both edits, and a few bad rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 97545
BOUNDARIES = [
    "1996-10-31",
    "1996-11-01",
    "2003-11-30",
    "2003-12-01",
    "2006-02-28",
    "2006-03-01",
    "2008-02-29",
    "2008-03-01",
    "2013-12-14",
    "2013-12-15",
    "2018-06-14",
    "2018-06-15",
    "2019-12-31",
    "2020-01-01",
    "2024-03-31",
    "2024-04-01",
    "2025-12-31",
    "2026-01-01",
]
PLANS = {
    "HCSC": ["HCSC-PPO-100", "HCSC-HMO-200", "HCSC-WC-300", "HCSC-MCD-400"],
    "AETNA": ["AETNA-OPEN-100", "AETNA-RIDER-200"],
    "CAM": ["CAM-PPO-100"],
    "ARCHIVE": ["ARCH-PPO-100", "ARCH-HMO-200"],
    "MEDICARE": ["MCR-ADV-100", ""],
    "UHC": ["UHC-CHOICE-1"],
}
OTHER_CODES = ["99213", "97110", "97140", "97530", "G0283"]
COLUMNS = [
    "claim_id",
    "line_number",
    "member_id",
    "payer_id",
    "plan_id",
    "service_date",
    "procedure_code",
    "units",
    "billed_amount",
    "place_of_service",
    "provider_npi",
]


def main() -> None:
    rng = random.Random(SEED)
    rows: list[dict[str, str]] = []
    for i in range(120):
        claim_no = i + 1
        payer = rng.choice(list(PLANS))
        plan = rng.choice([*PLANS[payer], ""]) if rng.random() < 0.1 else rng.choice(PLANS[payer])
        if rng.random() < 0.03:
            plan = "PLAN-UNKNOWN-9"
        if i < len(BOUNDARIES) * 2:
            day = dt.date.fromisoformat(BOUNDARIES[i % len(BOUNDARIES)])
        else:
            day = dt.date(1995, 1, 1) + dt.timedelta(days=rng.randrange(0, 33 * 365))
        member = f"M{rng.randrange(1, 60):04d}"
        pos = rng.choice(["11", "11", "11", "22", "21", "51", "61", ""])
        codes: list[tuple[str, int]] = []
        kind = rng.random()
        if kind < 0.55:
            codes.append(("97545", 2 if rng.random() < 0.08 else 1))
            codes += [("97546", rng.randint(1, 3))] * (1 if rng.random() < 0.7 else 0)
        elif kind < 0.65:
            codes.append(("97546", rng.randint(1, 2)))  # add-on without its primary
        codes += [(rng.choice(OTHER_CODES), 1) for _ in range(rng.randint(0, 2))]
        if not codes:
            codes.append((rng.choice(OTHER_CODES), 1))
        for n, (code, units) in enumerate(codes, start=1):
            rate = {"97545": 180.0, "97546": 65.0}.get(code, 95.0)
            rows.append(
                {
                    "claim_id": f"CLM{claim_no:06d}",
                    "line_number": str(n),
                    "member_id": member,
                    "payer_id": payer,
                    "plan_id": plan,
                    "service_date": day.isoformat(),
                    "procedure_code": code,
                    "units": str(units),
                    "billed_amount": f"{rate * units:.2f}",
                    "place_of_service": pos,
                    "provider_npi": f"1{rng.randrange(10**8, 10**9)}",
                }
            )
    # the same member twice on one day: the daily unit limit summed across claims
    for claim in ("CLM900001", "CLM900002"):
        rows.append(
            {
                **rows[0],
                "claim_id": claim,
                "line_number": "1",
                "member_id": "M9999",
                "procedure_code": "97545",
                "units": "1",
                "service_date": "2024-06-03",
                "payer_id": "HCSC",
                "plan_id": "HCSC-PPO-100",
                "place_of_service": "11",
            }
        )
    bad = [
        {"service_date": "2024-13-01"},
        {"service_date": "02/30/2024"},
        {"units": "two"},
        {"units": "0"},
        {"billed_amount": "-12.50"},
        {"procedure_code": "9754"},
        {"member_id": ""},
        {"place_of_service": "1"},
    ]
    for k, change in enumerate(bad):
        rows.append({**rows[5 + k], "claim_id": f"CLMBAD{k:03d}", **change})
    rows.append(dict(rows[10]))  # a duplicated (claim_id, line_number): both copies are rejects
    with (HERE / "claims.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} lines to {HERE / 'claims.csv'}")


if __name__ == "__main__":
    main()
