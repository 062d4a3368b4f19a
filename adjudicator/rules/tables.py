"""Rule tables (contract section 3): load, type and check each one, so the engine holds no policy literals.

Every table is a small CSV in ``rules/`` (package data: ``adjudicator/rules/shipped``)
with a ``source`` column citing the seed document it comes from (the benefit-plans table has the exact layout of
the contract instead). Loading checks each against its pandera schema
(``adjudicator.rules.schemas``) plus the checks a schema cannot say (no overlapping versions per key, end >= start);
a failure raises ``RulesError`` naming the table, the row (its line in the
file) and the problem.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import polars as pl

from adjudicator.errors import RulesError
from adjudicator.rules.payer_aliases import PAYER_ALIASES_TABLE, load_payer_aliases
from adjudicator.rules.schemas import (
    ADDON_PAIRS,
    PLACES,
    PLANS,
    POLICIES,
    REASONS,
    REASONS_TABLE,
    UNIT_LIMITS,
    schemas,
)
from adjudicator.rules.text_faults import check_csv_text, unreadable_csv

#: the shipped rule tables: package data (``rules/shipped``, a link to the repository's ``rules/`` folder in a
#: source checkout, so a run from a checkout still records ``rules/...`` in its manifest)
DEFAULT_RULES_DIR = Path(str(resources.files("adjudicator.rules").joinpath("shipped"))).resolve()

#: what a message template in reasons.csv may name, {like_this}
MESSAGE_PLACEHOLDERS = ("policy", "version", "source")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
#: the wildcard row of places_of_service.csv: the setting of every code not listed, and of no code
ANY_PLACE = "*"

_DATE_COLUMNS = ("effective_date", "end_date", "published_date")
_BOOL_COLUMNS = ("excludes_not_medically_necessary", "covers_work_hardening")
_INT_COLUMNS = ("max_units_per_member_day",)


@dataclass(frozen=True)
class RuleSet:
    """All rule tables of a run, typed and checked, with the checksum of each file."""

    policies: pl.DataFrame
    plans: pl.DataFrame
    addon_pairs: pl.DataFrame
    unit_limits: pl.DataFrame
    places: pl.DataFrame
    reasons: pl.DataFrame
    #: identifiers found in files -> rule-table payer_id (None when the rules folder has no such table)
    payer_aliases: pl.DataFrame | None = None
    files: dict[str, Path] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)
    as_of: dt.date | None = None

    @property
    def targeted_codes(self) -> list[str]:
        """Every procedure code some policy targets (the lines the decision table concerns)."""
        return sorted(self.policies["procedure_code"].unique().to_list())


def sha256(path: str | Path) -> str:
    """The sha256 of a file, read in 4 MiB blocks (inputs and rule tables alike)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(4 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_LINE = "_line"


def _row_error(table: str, path: Path, row: int | None, problem: str, *, check: str | None = None) -> RulesError:
    """``row`` counts data rows from 0; the error names the line of the file (the header is line 1)."""
    return RulesError(problem, path=path, table=table, line=row + 2 if row is not None else None, check=check)


def _read_table(path: Path, table: str) -> pl.DataFrame:
    """Read one table as text, then type its columns, naming the first row that does not parse."""
    if not path.is_file():
        raise RulesError(f"{path}: rule table {table} not found")
    check_csv_text(path, table)
    try:
        text = pl.read_csv(path, infer_schema=False)
    except Exception as exc:  # polars raises several types for unreadable CSV
        raise unreadable_csv(path, table, exc) from None
    text = text.with_columns(pl.col(c).str.strip_chars().replace("", None) for c in text.columns)
    typed = text
    for column in text.columns:
        if column in _DATE_COLUMNS:
            parsed = pl.col(column).str.strptime(pl.Date, "%Y-%m-%d", strict=False)
            what = "a date YYYY-MM-DD"
        elif column in _BOOL_COLUMNS:
            parsed = (
                pl.col(column)
                .str.to_lowercase()
                .replace_strict({"true": True, "false": False}, default=None, return_dtype=pl.Boolean)
            )
            what = "true or false"
        elif column in _INT_COLUMNS:
            parsed = pl.col(column).cast(pl.Int64, strict=False)
            what = "a whole number"
        else:
            continue
        typed = typed.with_columns(parsed.alias(column))
        bad = text.with_row_index("_row").filter(pl.col(column).is_not_null() & typed[column].is_null())
        if bad.height:
            row = int(bad["_row"][0])
            raise _row_error(table, path, row, f"{column} {bad[column][0]!r} is not {what}")
    return typed


def _validate(table: str, path: Path, frame: pl.DataFrame, *, validate: bool = True) -> pl.DataFrame:
    """The frame, checked against its table's pandera schema unless ``validate`` is False."""
    if not validate:
        return frame
    import pandera.polars as pa

    try:
        return schemas()[table].validate(frame, lazy=True)
    except (pa.errors.SchemaErrors, pa.errors.SchemaError) as exc:
        raise _schema_error(table, path, exc) from None


def _schema_error(table: str, path: Path, exc: Exception) -> RulesError:
    cases = getattr(exc, "failure_cases", None)
    if isinstance(cases, pl.DataFrame) and cases.height:
        first = cases.row(0, named=True)
        row = first.get("index")
        column = first.get("column")
        check = first.get("check")
        value = first.get("failure_case")
        problem = f"column {column!r} fails {check} (value {value!r})"
        if column is None or column == table:
            problem = f"{check}: {value}"
        return _row_error(
            table, path, int(row) if row is not None else None, problem, check=str(check) if check else None
        )
    return _row_error(table, path, None, str(exc).splitlines()[0])


def check_no_overlap(frame: pl.DataFrame, keys: list[str], table: str, path: Path) -> None:
    """Fail when a row ends before it starts, or two versions of one key share a day.

    An empty effective date is open to the past and an empty end date open to
    the future; bounds are inclusive.
    """
    indexed = (
        frame.with_columns((pl.col(_LINE) - 2).alias("_row"))
        if _LINE in frame.columns
        else frame.with_row_index("_row")
    )
    backwards = indexed.filter(pl.col("end_date") < pl.col("effective_date"))
    if backwards.height:
        r = backwards.row(0, named=True)
        raise _row_error(
            table,
            path,
            int(r["_row"]),
            f"end_date {r['end_date']} is before effective_date {r['effective_date']}",
        )
    ordered = indexed.sort([*keys, "effective_date"], nulls_last=False).with_columns(
        pl.col("end_date").shift(1).over(keys).alias("_prev_end"),
        pl.col("_row").shift(1).over(keys).alias("_prev_row"),
        pl.int_range(pl.len()).over(keys).alias("_nth"),
    )
    clash = ordered.filter(
        (pl.col("_nth") > 0)
        & (
            pl.col("_prev_end").is_null()
            | pl.col("effective_date").is_null()
            | (pl.col("effective_date") <= pl.col("_prev_end"))
        )
    )
    if clash.height:
        r = clash.row(0, named=True)
        key = ", ".join(f"{k}={r[k]}" for k in keys)
        raise _row_error(
            table,
            path,
            int(r["_row"]),
            f"version overlaps the one on line {int(r['_prev_row']) + 2} for {key}",
        )


def load_policies(path: Path, *, as_of: dt.date | None = None, validate: bool = True) -> pl.DataFrame:
    frame = _validate(POLICIES, path, _read_table(path, POLICIES), validate=validate)
    # a version adopted without a stated publication date was published when it took effect
    frame = frame.with_columns(pl.coalesce("published_date", "effective_date").alias("published_date"))
    if as_of is not None:
        frame = frame.filter(pl.col("published_date").is_null() | (pl.col("published_date") <= as_of))
    # a later row for the same version revises it (its dates, its stance): the latest published wins
    version_key = ["payer_id", "procedure_code", "policy_id", "version"]
    frame = (
        frame.with_row_index(_LINE, offset=2)
        .sort([*version_key, "published_date"], nulls_last=False)
        .unique(version_key, keep="last", maintain_order=True)
        .sort(_LINE)
    )
    check_no_overlap(frame, ["payer_id", "procedure_code"], POLICIES, path)
    return frame.drop(_LINE)


def load_plans(path: Path, *, validate: bool = True) -> pl.DataFrame:
    frame = _validate(PLANS, path, _read_table(path, PLANS), validate=validate)
    check_no_overlap(frame, ["plan_id"], PLANS, path)
    return frame


def load_rules(
    rules_dir: Path | None = None,
    *,
    plans: Path | None = None,
    as_of: dt.date | None = None,
    validate: bool = True,
) -> RuleSet:
    """Load and check every rule table of ``rules_dir`` (the shipped ``rules/`` by default); returns the
    ``RuleSet``, or raises ``RulesError`` naming the table, the line and the problem.

    ``plans`` replaces the directory's sample benefit-plans table; ``as_of``
    keeps only the policy rows published on or before that day. ``validate``
    False skips the pandera schemas (every other check still runs): for a
    caller that has them checked elsewhere, as a run does in a helper process
    (``adjudicator.rules.check``).
    """
    directory = Path(rules_dir) if rules_dir is not None else DEFAULT_RULES_DIR
    if not directory.is_dir():
        raise RulesError("rules directory not found", path=directory)
    files = {
        POLICIES: directory / POLICIES,
        PLANS: Path(plans) if plans is not None else directory / PLANS,
        ADDON_PAIRS: directory / ADDON_PAIRS,
        UNIT_LIMITS: directory / UNIT_LIMITS,
        PLACES: directory / PLACES,
        REASONS_TABLE: directory / REASONS_TABLE,
    }
    policies = load_policies(files[POLICIES], as_of=as_of, validate=validate)
    plan_table = load_plans(files[PLANS], validate=validate)

    def load(table: str) -> pl.DataFrame:
        return _validate(table, files[table], _read_table(files[table], table), validate=validate)

    addon, limits, places, reasons = (load(t) for t in (ADDON_PAIRS, UNIT_LIMITS, PLACES, REASONS_TABLE))
    for row, template in enumerate(reasons["message"].to_list()):
        unknown = sorted(set(PLACEHOLDER.findall(template)) - set(MESSAGE_PLACEHOLDERS))
        if unknown:
            raise _row_error(
                REASONS_TABLE,
                files[REASONS_TABLE],
                row,
                f"message names unknown placeholders {unknown}; use {list(MESSAGE_PLACEHOLDERS)}",
            )
    missing = sorted(set(REASONS) - set(reasons["reason"].to_list()))
    if missing:
        raise _row_error(REASONS_TABLE, files[REASONS_TABLE], None, f"no row for reasons {missing}")
    if ANY_PLACE not in places["place_of_service"].to_list():
        raise _row_error(PLACES, files[PLACES], None, f"no '{ANY_PLACE}' row for codes not listed")
    settings = set(places["setting"].to_list())
    listed = policies["places_of_service"].drop_nulls().str.split(";").explode().str.strip_chars()
    unknown = sorted({p for p in listed.to_list() if p not in settings and not p.isdigit()})
    if unknown:
        raise _row_error(
            POLICIES,
            files[POLICIES],
            None,
            f"places_of_service names unknown settings {unknown} (known: {sorted(settings)})",
        )
    aliases = None
    alias_file = directory / PAYER_ALIASES_TABLE
    if alias_file.exists():
        aliases = load_payer_aliases(alias_file, validate=validate)
        files[PAYER_ALIASES_TABLE] = alias_file
    return RuleSet(
        payer_aliases=aliases,
        policies=policies,
        plans=plan_table,
        addon_pairs=addon,
        unit_limits=limits,
        places=places,
        reasons=reasons,
        files=files,
        checksums={name: sha256(p) for name, p in files.items()},
        as_of=as_of,
    )
