"""Errors the adjudicator reports to its user as one line, and the exit codes they map to."""

from __future__ import annotations

#: the run completed (rejects included)
EXIT_OK = 0
#: the run could not start or finish because of its input, rules or options
EXIT_BAD_INPUT = 2
#: a bug or an environment fault (disk full, ...): please report it
EXIT_INTERNAL = 3


class AdjudicatorError(Exception):
    """A problem with what the user gave us; its message is one line naming the file and the problem."""

    exit_code = EXIT_BAD_INPUT


class InputError(AdjudicatorError):
    """A claim file cannot be read, or lacks a required column."""


class RulesError(AdjudicatorError):
    """A rule or plan table breaks its contract; the message names the table and the row."""


class OutputError(AdjudicatorError):
    """The output folder cannot be written as asked (exists without --overwrite, ...)."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type name when it has none), for one-line reports."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class InternalError(RuntimeError):
    """Two parts of the engine disagree (a bug): the run stops with exit 3 and publishes nothing."""
