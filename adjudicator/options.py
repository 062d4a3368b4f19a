"""What a run is asked to do (``RunOptions``, its ``Slice``) and how the engine sizes its work (``EngineSettings``):
frozen values, each with its JSON round trip.

``RunOptions`` is recorded in the manifest, so a run can be replayed; ``EngineSettings`` never changes an output,
only how much a step holds in memory or how many files it opens, so it is not recorded. Settings travel as an
argument to the prepass, the driver, the spills and the diff; no module global chooses a code path.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from adjudicator.errors import UsageError

if TYPE_CHECKING:
    import polars as pl

#: a path that names a scheme: ``s3://bucket/key``, and the ``s3:/bucket/key`` that ``pathlib.Path`` folds it into.
#: Two letters at least, so a Windows drive (``C:/``) is a path.
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]+):/")


def local_path(value: str | os.PathLike[str], what: str) -> str:
    """``value`` as a local path: a ``file://`` URI becomes its path; any other scheme (``s3://``, ``abfss://``,
    ``gs://``, ``https://``) raises ``UsageError`` naming ``what`` and the URI (exit 2), so it never becomes a local
    folder named after the scheme. The object stores are not read or written here: a mounted store is a path."""
    text = os.fspath(value)
    found = _SCHEME.match(text)
    if found is None:
        return text
    scheme = found["scheme"].lower()
    if scheme == "file":
        parts = urlsplit(text)
        if parts.netloc in ("", "localhost") and parts.path:
            return unquote(parts.path)
        problem = "a file:// URI names a local path only (file:///absolute/path)"
    else:
        problem = (
            f"{scheme}:// is not supported: the adjudicator reads and writes local paths only; copy the data to a "
            "local folder, or mount the store (a FUSE mount, a mounted volume) and give its path"
        )
    # as typed, even once pathlib.Path has folded '//' into '/'
    shown = text if "://" in text or isinstance(value, str) else f"{found['scheme']}://{text[found.end() :]}"
    raise UsageError(f"{what} {shown}: {problem}")


def _path(value: str | os.PathLike[str] | None, what: str) -> Path | None:
    return None if value is None else Path(local_path(value, what))


def _inputs(value: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> tuple[str, ...]:
    """One input or a sequence of them, as the tuple of text paths (and globs) the readers take."""
    items = [value] if isinstance(value, str | os.PathLike) else value
    return tuple(local_path(each, "input") for each in items)


#: a date as the options take it: exactly YYYY-MM-DD (``fromisoformat`` alone also takes "20240105")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(name: str, text: object) -> dt.date | None:
    """The date option ``name`` as the command line takes it: None, or text YYYY-MM-DD that is a real day;
    otherwise ``ValueError`` naming the option. The command line and a replayed manifest apply the same rule."""
    if text is None:
        return None
    if isinstance(text, str) and _DATE.fullmatch(text.strip()):
        with contextlib.suppress(ValueError):
            return dt.date.fromisoformat(text.strip())
    raise ValueError(f"{name}: {text!r} is not a date YYYY-MM-DD")


def _text(name: str, value: object) -> str | None:
    """A recorded option that is text or absent; ``ValueError`` naming it otherwise."""
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"{name}: {value!r} is not text")


def _texts(name: str, value: object) -> tuple[str, ...]:
    """A recorded option that is a list of text (absent: empty); ``ValueError`` naming it otherwise."""
    if value is None:
        return ()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(f"{name}: {value!r} is not a list of text")


def recorded_path(path: str, cwd: str | None) -> str:
    """A path recorded in a manifest as the recording run saw it: a relative path is relative to that run's
    working folder (``cwd``), never to this one, where a file of the same name may be another file. Without a
    recorded ``cwd``, as given."""
    if os.path.isabs(path) or not cwd:
        return path
    return str(Path(cwd) / path)


@dataclass(frozen=True)
class Slice:
    """Which lines a reprocessing run looks at; the others are counted as skipped."""

    service_from: dt.date | None = None
    service_to: dt.date | None = None
    payers: tuple[str, ...] = ()
    claims_file: Path | None = None

    def __post_init__(self) -> None:
        # a single payer, a list, a str or a Path: the API's callers are not the parser
        payers = (self.payers,) if isinstance(self.payers, str) else tuple(self.payers)
        object.__setattr__(self, "payers", payers)
        object.__setattr__(self, "claims_file", _path(self.claims_file, "--claims"))
        if self.service_from is not None and self.service_to is not None and self.service_from > self.service_to:
            raise ValueError(
                f"service_from {self.service_from} is after service_to {self.service_to}: the slice would hold no day"
            )

    def predicate(self, claim_ids: pl.Series | None = None) -> pl.Expr | None:
        """True for lines inside the slice, over the typed canonical columns; ``claim_ids``: the ids of the
        claims list, read by the caller (``readers.claims_list.read_claim_ids`` for a run; the ids the run kept
        for a diff), required when it has one."""
        # polars here, not at the top: the command line imports this module before it tunes polars' reader
        import polars as pl

        from adjudicator.contract import CLAIM_ID, PAYER_ID, SERVICE_DATE

        if self.claims_file is not None and claim_ids is None:
            raise ValueError(f"the slice's claims list {self.claims_file} must be read first")
        parts: list[pl.Expr] = []
        if self.service_from is not None:
            parts.append(pl.col(SERVICE_DATE) >= self.service_from)
        if self.service_to is not None:
            parts.append(pl.col(SERVICE_DATE) <= self.service_to)
        if self.payers:
            parts.append(pl.col(PAYER_ID).is_in(pl.Series(self.payers, dtype=pl.String)))
        if claim_ids is not None:
            parts.append(pl.col(CLAIM_ID).is_in(claim_ids))
        return pl.all_horizontal(parts) if parts else None

    def as_json(self) -> dict[str, Any]:
        return {
            "service_from": self.service_from.isoformat() if self.service_from else None,
            "service_to": self.service_to.isoformat() if self.service_to else None,
            "only_payers": list(self.payers),
            "claims_file": str(self.claims_file) if self.claims_file else None,
        }

    @classmethod
    def from_json(cls, recorded: dict[str, Any] | None, *, cwd: str | None = None) -> Slice:
        """The slice ``as_json`` recorded; a relative claims list is found from ``cwd`` (``recorded_path``).
        ``ValueError`` names a value the command line would have refused (a wrong type, a date out of order)."""
        recorded = recorded or {}
        if not isinstance(recorded, dict):
            raise ValueError(f"slice: {recorded!r} is not an object")
        claims = _text("slice.claims_file", recorded.get("claims_file"))
        return cls(
            service_from=parse_date("slice.service_from", recorded.get("service_from")),
            service_to=parse_date("slice.service_to", recorded.get("service_to")),
            payers=_texts("slice.only_payers", recorded.get("only_payers")),
            claims_file=Path(recorded_path(claims, cwd)) if claims else None,
        )


@dataclass(frozen=True)
class EngineSettings:
    """How the engine sizes its work. No setting changes a result, a reject or a count; tests choose small values
    to reach the spilled and multi-batch paths. Why each default: docs/benchmarks.md."""

    #: lines per batch of the driver and per Spark task chunk
    batch_size: int = 100_000
    #: lines per spill partition of the prepass's key check
    rows_per_partition: int = 2_500_000
    #: up to this many lines the key check holds every key hash in memory; beyond, the keys are spilled
    hashes_in_memory: int = 20_000_000
    #: concerned lines per spill partition of the edits (their rows are wider than the keys')
    concerned_rows_per_partition: int = 1_000_000
    #: per-claim partials per part when the report's top claims are summed at the end of a run
    claims_per_partition: int = 250_000
    #: the most partition files one spill writes at once; more partitions are written in several passes
    spill_files_open: int = 20
    #: rows per partition of the diff's spill
    diff_rows_per_partition: int = 500_000
    #: rows per slice when the diff zips two aligned runs
    diff_zip_rows: int = 1_000_000
    #: the most rejects per run the diff compares in memory beside two aligned runs
    diff_aligned_max_rejects: int = 500_000
    #: key hashes per partition when the diff checks that a run's keys are unique
    diff_hashes_per_partition: int = 5_000_000
    #: a run shows its progress once it has taken this long (seconds), when stderr is a terminal
    progress_after_s: float = 3.0
    #: off a terminal (cron, a scheduler's log), a progress line this often while a phase runs (seconds, > 0)
    progress_every_s: float = 5.0
    #: fact keys up to which the Spark engine broadcasts them to its tasks
    spark_broadcast_fact_keys: int = 250_000
    #: rows per Spark read item
    spark_rows_per_item: int = 1_000_000

    def __post_init__(self) -> None:
        for each in dataclasses.fields(self):
            value = getattr(self, each.name)
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise ValueError(f"EngineSettings.{each.name} must be a number >= 0, got {value!r}")
        for name in (
            "batch_size",
            "rows_per_partition",
            "concerned_rows_per_partition",
            "claims_per_partition",
            "diff_rows_per_partition",
            "diff_zip_rows",
            "diff_hashes_per_partition",
            "spark_rows_per_item",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"EngineSettings.{name} must be at least 1, got {getattr(self, name)!r}")
        if self.progress_every_s <= 0:
            raise ValueError(f"EngineSettings.progress_every_s must be above 0, got {self.progress_every_s!r}")
        if self.spill_files_open < 2:
            raise ValueError(f"EngineSettings.spill_files_open must be at least 2, got {self.spill_files_open!r}")

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, recorded: dict[str, Any]) -> EngineSettings:
        """The settings ``as_json`` wrote; an unknown key is refused (``ValueError`` naming it)."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(recorded) - known)
        if unknown:
            raise ValueError(f"unknown engine settings {unknown}; known: {sorted(known)}")
        return cls(**recorded)


DEFAULT_SETTINGS = EngineSettings()

#: ``RunOptions.history_version`` of a run that read no history table (it did not exist yet)
NO_HISTORY_YET = -1


@dataclass(frozen=True)
class RunOptions:
    """What a run is asked to do; recorded in the manifest so a run can be replayed.

    Every path may be given as ``str`` or ``Path`` (kept as ``Path``; ``inputs`` as a tuple of ``str``), and
    ``inputs`` as one path or glob as well as a sequence; a ``file://`` URI is its path, any other URI raises
    ``UsageError`` (``local_path``). ``settings`` sizes the engine's work and is not recorded: it never changes
    an output.
    """

    inputs: tuple[str, ...]
    out: Path
    rules_dir: Path | None = None
    plans: Path | None = None
    layout: str | None = None
    payer: str | None = None
    overwrite: bool = False
    rules_as_of: dt.date | None = None
    slice: Slice = field(default_factory=Slice)
    #: the command line as typed, recorded for the audit trail (not used to replay)
    command_line: tuple[str, ...] = ()
    settings: EngineSettings = DEFAULT_SETTINGS
    #: the history table (contract section 7): a Delta table's local path (a mounted store's too), created on
    #: first use; a URI other than ``file://`` is refused like every path
    history: str | None = None
    #: read the history without committing tonight's lines to it (what-if runs)
    history_read_only: bool = False
    #: the history's version to read (a replay's: the version its run read; ``NO_HISTORY_YET``: the table did
    #: not exist then); None: the latest. A run given a version writes nothing to the history
    history_version: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", _inputs(self.inputs))
        object.__setattr__(self, "out", _path(self.out, "--out"))
        object.__setattr__(self, "rules_dir", _path(self.rules_dir, "--rules"))
        object.__setattr__(self, "plans", _path(self.plans, "--plans"))
        if self.history is not None:
            object.__setattr__(self, "history", local_path(self.history, "--history"))
        object.__setattr__(self, "command_line", tuple(self.command_line))

    def as_json(self) -> dict[str, Any]:
        return {
            "inputs": list(self.inputs),
            "out": str(self.out),
            "rules_dir": str(self.rules_dir) if self.rules_dir else None,
            "plans": str(self.plans) if self.plans else None,
            "layout": self.layout,
            "payer": self.payer,
            "rules_as_of": self.rules_as_of.isoformat() if self.rules_as_of else None,
            "slice": self.slice.as_json(),
            "command_line": list(self.command_line),
            "cwd": os.getcwd(),
            "history": self.history,
            "history_read_only": self.history_read_only,
        }

    @classmethod
    def from_json(cls, recorded: dict[str, Any], *, inputs: tuple[str, ...] | None = None) -> RunOptions:
        """The options ``as_json`` recorded, relative paths found from the recorded ``cwd``; ``inputs`` replaces
        the recorded ones (a manifest's resolved inputs). The command line's checks apply: ``ValueError`` names
        a value it would have refused (a wrong type, a date that is not YYYY-MM-DD, dates out of order)."""
        cwd = _text("cwd", recorded.get("cwd"))
        out = _text("out", recorded["out"])
        if not out:
            raise ValueError(f"out: {out!r} is not a folder")
        rules_dir, plans = _text("rules_dir", recorded.get("rules_dir")), _text("plans", recorded.get("plans"))
        return cls(
            inputs=inputs
            if inputs is not None
            else tuple(recorded_path(i, cwd) for i in _texts("inputs", recorded["inputs"])),
            out=Path(recorded_path(out, cwd)),
            rules_dir=Path(recorded_path(rules_dir, cwd)) if rules_dir else None,
            plans=Path(recorded_path(plans, cwd)) if plans else None,
            layout=_text("layout", recorded.get("layout")),
            payer=_text("payer", recorded.get("payer")),
            rules_as_of=parse_date("rules_as_of", recorded.get("rules_as_of")),
            slice=Slice.from_json(recorded.get("slice"), cwd=cwd),
            history=_history_path(recorded.get("history"), cwd),
            history_read_only=bool(recorded.get("history_read_only", False)),
        )

    @property
    def history_writes(self) -> bool:
        """Whether the run commits its lines to the history (a history, not read-only, not pinned)."""
        return self.history is not None and not self.history_read_only and self.history_version is None


def _history_path(path: str | None, cwd: str | None) -> str | None:
    """A recorded history path as seen from here."""
    return None if path is None else recorded_path(path, cwd)


__all__ = [
    "DEFAULT_SETTINGS",
    "NO_HISTORY_YET",
    "EngineSettings",
    "RunOptions",
    "Slice",
    "local_path",
    "parse_date",
    "recorded_path",
]
