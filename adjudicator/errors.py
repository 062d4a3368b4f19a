"""Every error the adjudicator reports to its user, and every exit code.

An error carries fields (``path``, ``table``, ``line``, ``check``, ``problem``) and builds its one-line message
from them, so callers and tests match fields, not strings: ``{path}: rule table {table} line {line}: {problem}``,
each part present only when its field is.
"""

from __future__ import annotations

import contextlib
import errno
from pathlib import Path

# POSIX only; imported now: with no file descriptor left, the import itself would fail
with contextlib.suppress(ImportError):
    import resource

#: the run completed (rejects included)
EXIT_OK = 0
#: ``adjudicate diff --fail-on-change`` found changes
EXIT_CHANGED = 1
#: the run could not start or finish because of its input, rules or options
EXIT_BAD_INPUT = 2
#: a bug or an environment fault (disk full, ...): please report it
EXIT_INTERNAL = 3
#: a data-quality gate failed (``--max-reject-rate``, ``--min-results``): OUT is published for inspection
EXIT_GATE = 4
#: OUT was published but the run's history commit was not made (``adjudicate history commit OUT`` completes it)
EXIT_HISTORY_PENDING = 5
#: after Ctrl-C (SIGINT) and after SIGTERM: 128 + the signal number, as a shell reports it
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class AdjudicatorError(Exception):
    """A problem reported as one line naming the file (and for a table, the line) and the problem."""

    exit_code = EXIT_BAD_INPUT

    def __init__(
        self,
        problem: str,
        *,
        path: str | Path | None = None,
        table: str | None = None,
        line: int | None = None,
        check: str | None = None,
    ) -> None:
        self.problem = problem
        self.path = str(path) if path is not None else None
        self.table = table
        self.line = line
        #: the name of the check that failed, where there is one (a reject check, a rule-table check)
        self.check = check
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = self.path or ""
        if self.table is not None:
            where = f"{where}: rule table {self.table}" if where else f"rule table {self.table}"
        if self.line is not None:
            where = f"{where} line {self.line}" if where else f"line {self.line}"
        return f"{where}: {self.problem}" if where else self.problem

    def __reduce__(self) -> tuple[object, ...]:
        # keyword fields survive pickling (a Spark task's error reaches the driver whole)
        return (_rebuild, (type(self), self.problem, self.path, self.table, self.line, self.check))


def _rebuild(
    kind: type[AdjudicatorError], problem: str, path: str | None, table: str | None, line: int | None, check: str | None
) -> AdjudicatorError:
    return kind(problem, path=path, table=table, line=line, check=check)


class UsageError(AdjudicatorError):
    """The command line asks for something impossible (options that exclude each other, ...)."""


class InputError(AdjudicatorError):
    """A claim file cannot be read, or lacks a required column."""


class RulesError(AdjudicatorError):
    """A rule or plan table breaks its contract; the message names the table and the row."""


class OutputError(AdjudicatorError):
    """The output folder cannot be written as asked (exists without --overwrite, ...)."""


class InternalError(AdjudicatorError):
    """Two parts of the engine disagree (a bug): the run stops with exit 3 and publishes nothing."""

    exit_code = EXIT_INTERNAL


class DiskFullError(OutputError):
    """The filesystem holding OUT ran out of space (or quota): an environment fault, not bad input."""

    exit_code = EXIT_INTERNAL


def _open_files_limit() -> str:
    try:
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (NameError, OSError, ValueError):
        return "the limit of open files per process (ulimit -n)"
    return f"the limit of open files per process (ulimit -n) is {'unlimited' if soft < 0 else soft}"


def refused_by_environment(exc: BaseException) -> str | None:
    """The one-line problem of an error that the run's environment, not a bug, caused (exit 2): a permission
    denied, or a resource limit hit (open files, memory), naming the path or the limit; None for any other.

    Polars and Arrow report these with the OS's words (``Too many open files (os error 24)``), not always as
    the matching ``OSError``, so their text is read too.
    """
    code = getattr(exc, "errno", None)
    if isinstance(exc, PermissionError) or code == errno.EACCES or "(os error 13)" in str(exc):
        where = getattr(exc, "filename", None)
        return f"{where}: permission denied" if where else f"permission denied: {first_line(exc)}"
    return resource_limit(exc)


def resource_limit(exc: BaseException) -> str | None:
    """The resource limit an error hit (open files, memory), in one line naming it; None for any other."""
    text = str(exc)
    code = getattr(exc, "errno", None)
    if code == errno.EMFILE or "(os error 24)" in text or "Too many open files" in text:
        return f"resource limit: too many open files (EMFILE): {_open_files_limit()}"
    if code == errno.ENFILE or "(os error 23)" in text:
        return "resource limit: too many open files in the system (ENFILE): the system's limit of open files"
    if isinstance(exc, MemoryError) or code == errno.ENOMEM or "(os error 12)" in text:
        return (
            "resource limit: out of memory (MemoryError, ENOMEM): the process's memory limit (ulimit -v, a "
            "container's limit) or the machine's memory was reached"
        )
    return None


class HistoryCommitError(AdjudicatorError):
    """OUT was published but the history was not committed: ``adjudicate history commit OUT`` completes it."""

    exit_code = EXIT_HISTORY_PENDING


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type name when it has none), for one-line reports."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_CHANGED",
    "EXIT_GATE",
    "EXIT_HISTORY_PENDING",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TERMINATED",
    "AdjudicatorError",
    "DiskFullError",
    "HistoryCommitError",
    "InputError",
    "InternalError",
    "OutputError",
    "RulesError",
    "UsageError",
    "first_line",
    "refused_by_environment",
    "resource_limit",
]
