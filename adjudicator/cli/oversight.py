"""What a scheduler reads of a command: the options of its log, its run id, its data-quality gates and its
machine summary, and how a finished run becomes an exit code (``finish_run``: 0, or 4 for a failed gate)."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import signal
import sys
from typing import Any

from adjudicator.cli.signals import Terminated, received
from adjudicator.embedded.events import LOG_FORMATS, RunLog, check_run_id
from adjudicator.errors import (
    EXIT_BAD_INPUT,
    EXIT_GATE,
    EXIT_INTERNAL,
    EXIT_OK,
    AdjudicatorError,
    UsageError,
    refused_by_environment,
)
from adjudicator.options import EngineSettings
from adjudicator.publish.gates import Gates, failed_gates
from adjudicator.report.terminal import format_summary, summary_fields


def add_log_format(parser: argparse.ArgumentParser) -> None:
    """``--log-format`` (``run`` and ``diff``)."""
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="text",
        help="stderr as text (default: warnings, and progress lines) or as JSON lines: one event per phase "
        "start and end, progress, warnings and the final summary, each with the run id (README, 'Logs')",
    )


def add_run_options(run: argparse.ArgumentParser) -> None:
    """The options of ``run`` for schedulers: the log, the run id, the summary line and the gates."""
    watched = run.add_argument_group(
        "schedulers (logs and data-quality gates)",
        "off a terminal a progress line is written every few seconds; a run that adjudicates no line, rejects "
        "every line or holds dates of service after the run date warns; a failed gate exits 4 with OUT published",
    )
    add_log_format(watched)  # type: ignore[arg-type]
    watched.add_argument(
        "--run-id",
        default=None,
        metavar="ID",
        help="the run's id (default: a new random one): 1 to 128 letters, digits, '.', '_' or '-'",
    )
    watched.add_argument(
        "--summary-json", action="store_true", help="end stdout with one line: the run's summary as JSON"
    )
    watched.add_argument(
        "--max-reject-rate",
        default=None,
        metavar="R",
        help="exit 4 when more than R (0 to 1) of the lines looked at are rejected",
    )
    watched.add_argument("--min-results", default=None, metavar="N", help="exit 4 when fewer than N lines are results")


def run_log(args: argparse.Namespace, settings: EngineSettings) -> RunLog:
    """The command's log (``RunLog``) as its options ask: JSON progress even with ``--quiet``, text not."""
    log_format = getattr(args, "log_format", "text")
    run_id = getattr(args, "run_id", None)
    return RunLog(
        log_format=log_format,
        run_id=check_run_id(run_id) if run_id is not None else None,
        progress=log_format == "json" or not args.quiet,
        every_s=settings.progress_every_s,
        after_s=settings.progress_after_s,
    )


def gates(args: argparse.Namespace) -> Gates:
    """The gates of ``--max-reject-rate`` and ``--min-results``; a value out of range is a usage error."""
    rate, least = args.max_reject_rate, args.min_results
    try:
        rate_value = float(rate) if rate is not None else None
        if rate_value is not None and not (math.isfinite(rate_value) and 0 <= rate_value <= 1):
            raise ValueError
    except ValueError:
        raise UsageError(f"--max-reject-rate {rate!r}: a share of the lines, from 0 to 1 (0.05 is 5%)") from None
    try:
        least_value = int(least) if least is not None else None
        if least_value is not None and least_value < 0:
            raise ValueError
    except ValueError:
        raise UsageError(f"--min-results {least!r}: a whole number of lines, 0 or more") from None
    return Gates(max_reject_rate=rate_value, min_results=least_value)


def say(text: str) -> None:
    """Print a command's summary once its work is published; a closed or broken stdout drops it (the command
    still succeeded: exit 0), with one line on stderr."""
    try:
        print(text, flush=True)
    except (OSError, ValueError):  # BrokenPipeError, EBADF; ValueError: stdout was closed in this process
        # stdout goes nowhere from now on, so that the interpreter's last flush at exit fails no more
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        with contextlib.suppress(OSError, ValueError):
            print(
                "adjudicate: stdout is closed: the summary was not printed (the output is published)", file=sys.stderr
            )


def finish_run(args: argparse.Namespace, manifest: dict[str, Any], log: RunLog) -> int:
    """A run that published OUT: its summary (text on stdout unless ``--quiet``; the ``summary`` event; the JSON
    line with ``--summary-json``), a failed gate's line on stderr; exit 4 when a gate failed, else 0."""
    failed = failed_gates(manifest)
    code = EXIT_GATE if failed else EXIT_OK
    finished = dt.datetime.now(dt.UTC)
    if not args.quiet:
        say(format_summary(manifest, finished=finished))
    for each in manifest.get("gates", {}).get("failed", []):
        if log.json:
            log.emit("gate_failed", code=each["code"], message=each["message"], exit_code=code)
        else:
            print(f"adjudicate: error: {each['message']} (OUT published for inspection)", file=sys.stderr)
    fields = summary_fields(manifest, exit_code=code, finished=finished)
    log.summary(fields)
    if getattr(args, "summary_json", False):
        say(json.dumps(fields, separators=(",", ":"), default=str))
    return code


def report_failure(args: argparse.Namespace, log: RunLog, exc: BaseException) -> None:
    """A command that stopped before publishing, on an error or a stop signal: an ``error`` event (its exit code,
    its message, and the signal's name for a signal), and with ``--summary-json`` the summary line with the run
    id, ``status`` (``error``, ``terminated`` or ``interrupted``), the exit code and the error. The one line on
    stderr and the exit code are ``main``'s; ``stop_outcome`` gives the same code."""
    status, code, message, signum = stop_outcome(exc)
    name = signal.Signals(signum).name if signum is not None else None
    log.emit("error", exit_code=code, message=message, signal=name)
    if getattr(args, "summary_json", False):
        fields = {"run_id": log.run_id, "status": status, "exit_code": code, "error": message}
        say(json.dumps(fields, separators=(",", ":")))


def stop_outcome(exc: BaseException) -> tuple[str, int, str, int | None]:
    """How ``main`` ends a command that raised ``exc``: (status, exit code, message, the stop signal or None).

    A stop signal received meanwhile wins over the error it caused (a read cut short is the interruption)."""
    signum = received()
    if signum is None and isinstance(exc, KeyboardInterrupt):
        signum = exc.signum if isinstance(exc, Terminated) else signal.SIGINT
    if signum is not None:
        if signum == signal.SIGINT:
            return "interrupted", 128 + signum, "interrupted", signum
        return "terminated", 128 + signum, f"terminated ({signal.Signals(signum).name})", signum
    if isinstance(exc, AdjudicatorError):
        return "error", exc.exit_code, str(exc), None
    problem = refused_by_environment(exc)
    if problem is not None:
        return "error", EXIT_BAD_INPUT, problem, None
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return "error", EXIT_INTERNAL, f"internal error: {type(exc).__name__}: {first}", None


__all__ = [
    "add_log_format",
    "add_run_options",
    "finish_run",
    "gates",
    "report_failure",
    "run_log",
    "say",
    "stop_outcome",
]
