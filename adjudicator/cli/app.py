"""The ``adjudicate`` command line: its commands, the engine a run goes to, and how errors become exit codes."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import traceback
from collections.abc import Sequence
from typing import Any

from adjudicator.cli.args import parse_date, parser
from adjudicator.cli.signals import Terminated, interrupted, interrupted_by_signal, received, stop_signals
from adjudicator.embedded.tuning import tune_reader
from adjudicator.errors import (
    EXIT_CHANGED,
    EXIT_INTERNAL,
    EXIT_OK,
    AdjudicatorError,
    InternalError,
    UsageError,
    first_line,
)
from adjudicator.options import EngineSettings, RunOptions, Slice
from adjudicator.report.terminal import format_summary


def _settings(text: str | None) -> EngineSettings:
    if text is None:
        return EngineSettings()
    try:
        recorded = json.loads(text)
        if not isinstance(recorded, dict):
            raise ValueError("not a JSON object")
        return EngineSettings.from_json(recorded)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"--engine-settings {text!r}: {first_line(exc)}") from None


def _run_on_engine(args: argparse.Namespace, options: RunOptions) -> dict[str, Any]:
    """One run on the engine asked for; Spark (and pyspark's import) only when ``--engine spark``."""
    options = dataclasses.replace(options, settings=_settings(args.engine_settings))
    if args.engine != "spark":
        if args.spark_master is not None:
            raise UsageError("--spark-master needs --engine spark")
        from adjudicator.run import adjudicate

        return adjudicate(options, progress=not args.quiet)
    from adjudicator.spark import run as spark

    session, made = spark.session(args.spark_master)
    try:
        return spark.run_options(session, options)
    finally:
        if made:
            session.stop()


def _cmd_run(args: argparse.Namespace) -> int:
    from adjudicator.run import replay_options

    if args.history_read_only and args.history is None:
        raise UsageError("--history-read-only needs --history PATH")
    if args.replay is not None:
        if args.inputs:
            raise UsageError("give either INPUT files or --replay MANIFEST, not both")
        if args.history is not None:
            raise UsageError("a replay reads the history its run read (its manifest): give no --history")
        manifest = _run_on_engine(args, replay_options(args.replay, out=args.out, overwrite=args.overwrite))
        if not args.quiet:
            print(format_summary(manifest))
        return EXIT_OK
    if not args.inputs or args.out is None:
        raise UsageError("adjudicate run needs INPUT files and --out OUT (or --replay MANIFEST)")
    service_from = parse_date("--service-from", args.service_from)
    service_to = parse_date("--service-to", args.service_to)
    if service_from is not None and service_to is not None and service_from > service_to:
        raise UsageError(
            f"--service-from {service_from} is after --service-to {service_to}: the slice would hold no day"
        )
    options = RunOptions(
        inputs=tuple(args.inputs),
        out=args.out,
        rules_dir=args.rules,
        plans=args.plans,
        layout=args.layout,
        payer=args.payer,
        overwrite=args.overwrite,
        rules_as_of=parse_date("--rules-as-of", args.rules_as_of),
        slice=Slice(
            service_from=service_from,
            service_to=service_to,
            payers=tuple(args.only_payer),
            claims_file=args.claims,
        ),
        command_line=tuple(sys.argv),
        history=args.history,
        history_read_only=args.history_read_only,
    )
    manifest = _run_on_engine(args, options)
    if not args.quiet:
        print(format_summary(manifest))
    return EXIT_OK


def _cmd_diff(args: argparse.Namespace) -> int:
    from adjudicator.diff.runs import diff_runs
    from adjudicator.diff.summary import format_diff_summary

    summary = diff_runs(args.old_out, args.new_out, args.out, overwrite=args.overwrite)
    if not args.quiet:
        print(format_diff_summary(summary))
    if args.fail_on_change and summary["totals"]["changed"]:
        return EXIT_CHANGED
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from adjudicator.report.rewrite import rewrite_report

    path = rewrite_report(args.folder)
    if not args.quiet:
        print(f"wrote {path}")
    return EXIT_OK


def _cmd_history(args: argparse.Namespace) -> int:
    target = args.target
    if target[0] == "commit":
        if len(target) != 2:
            raise UsageError("adjudicate history commit needs one OUT folder")
        from pathlib import Path

        from adjudicator.publish.history import complete

        section = complete(Path(target[1]))
        print(f"history {section['path']}: run committed at version {section['version_written']}")
        return EXIT_OK
    if len(target) != 1:
        raise UsageError("adjudicate history takes one PATH (or: commit OUT)")
    from adjudicator.readers.history import format_versions, versions

    print(format_versions(target[0], versions(target[0])))
    return EXIT_OK


COMMANDS = {"run": _cmd_run, "diff": _cmd_diff, "report": _cmd_report, "history": _cmd_history}


#: warnings of other packages that would break the one-line stderr of an error: pyspark 4.x warns about pandas 3
#: whenever its pandas support loads, as the Spark engine's ``mapInArrow`` does (and as pandera's import does
#: where pyspark is installed: a run leaves pandera to its helper, ``adjudicator.rules.check``)
_THIRD_PARTY_WARNINGS = (("PySpark does not yet fully support pandas", FutureWarning),)


def main(argv: Sequence[str] | None = None) -> int:
    # before polars is first imported: some of its settings are read once, at import (adjudicator.embedded.tuning)
    tune_reader()
    import warnings

    for message, category in _THIRD_PARTY_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category)
    with stop_signals():
        try:
            return _main(argv)
        except KeyboardInterrupt as exc:
            return interrupted(isinstance(exc, Terminated))


def _internal_error(exc: Exception, debug: bool) -> int:
    """A bug (``InternalError``, or any exception nothing else caught): one line, never a traceback."""
    if debug:
        traceback.print_exc()
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    print(
        f"adjudicate: internal error: {type(exc).__name__}: {first} "
        "(OUT left as it was; rerun with --debug for a traceback)",
        file=sys.stderr,
    )
    return EXIT_INTERNAL


def _main(argv: Sequence[str] | None) -> int:
    args = parser().parse_args(argv)
    debug = bool(getattr(args, "debug", False))
    try:
        return COMMANDS[args.command](args)
    except InternalError as exc:
        if received() is not None:
            return interrupted_by_signal()
        return _internal_error(exc, debug)
    except AdjudicatorError as exc:
        if received() is not None:
            # a read cut short by the signal reads as bad input; it is the interruption
            return interrupted_by_signal()
        if debug:
            traceback.print_exc()
        print(f"adjudicate: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        return interrupted(isinstance(exc, Terminated))
    except Exception as exc:  # the last line of defence: one line, never a traceback
        if received() is not None:
            # the engine reports an interruption as its own error; it is still an interruption
            return interrupted_by_signal()
        return _internal_error(exc, debug)
    except BaseException as exc:
        # a panic in the engine (pyo3's PanicException is a BaseException); after a stop signal it is the
        # interruption, otherwise a bug: one line either way
        if type(exc).__name__ != "PanicException":
            raise
        if received() is not None:
            return interrupted_by_signal()
        if debug:
            traceback.print_exc()
        print(
            f"adjudicate: internal error: engine panic: {first_line(exc)} "
            "(OUT left as it was; rerun with --debug for a traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


__all__ = ["main"]
