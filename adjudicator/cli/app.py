"""The ``adjudicate`` command line: its commands, the engine a run goes to, and how errors become exit codes."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from adjudicator.cli import oversight
from adjudicator.cli.args import parse_date, parser
from adjudicator.cli.oversight import say
from adjudicator.cli.signals import interrupted_by_signal, received, stop_signals, stopped_by
from adjudicator.embedded.events import RunLog
from adjudicator.embedded.tuning import tune_reader
from adjudicator.errors import (
    EXIT_BAD_INPUT,
    EXIT_CHANGED,
    EXIT_INTERNAL,
    EXIT_OK,
    AdjudicatorError,
    InternalError,
    UsageError,
    first_line,
    refused_by_environment,
    resource_limit,
)
from adjudicator.options import EngineSettings, RunOptions, Slice, local_path
from adjudicator.publish.gates import Gates


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


def _local(value: str, what: str) -> Path:
    """A path argument as a local ``Path``; a URI is refused naming ``what`` (``options.local_path``)."""
    return Path(local_path(value, what))


def _run_on_engine(args: argparse.Namespace, options: RunOptions) -> int:
    """One run on the engine asked for, its log and gates (``oversight``); the exit code."""
    settings = _settings(args.engine_settings)
    gates = oversight.gates(args)
    with oversight.run_log(args, settings) as log:
        log.emit("run_start", command="run", engine=args.engine, out=str(options.out))
        try:
            manifest = _on_engine(args, dataclasses.replace(options, settings=settings), log, gates)
        except BaseException as exc:
            # an error, a stop signal or an engine panic (pyo3's PanicException is a BaseException)
            if not isinstance(exc, SystemExit | GeneratorExit):
                oversight.report_failure(args, log, exc)
            raise
        return oversight.finish_run(args, manifest, log)


def _on_engine(args: argparse.Namespace, options: RunOptions, log: RunLog, gates: Gates) -> dict[str, Any]:
    """One run on the engine asked for; Spark (and pyspark's import) only when ``--engine spark``."""
    if args.engine != "spark":
        if args.spark_master is not None:
            raise UsageError("--spark-master needs --engine spark")
        from adjudicator.run import adjudicate

        return adjudicate(options, progress=not args.quiet, log=log, gates=gates)
    from adjudicator.spark import run as spark

    session, made = spark.session(args.spark_master)
    try:
        return spark.run_options(session, options, log=log, gates=gates)
    finally:
        if made:
            session.stop()


def _cmd_run(args: argparse.Namespace) -> int:
    from adjudicator.replay import replay_options

    if args.history_read_only and args.history is None:
        raise UsageError("--history-read-only needs --history PATH")
    if args.replay is not None:
        if args.inputs:
            raise UsageError("give either INPUT files or --replay MANIFEST, not both")
        if args.history is not None:
            raise UsageError("a replay reads the history its run read (its manifest): give no --history")
        out = None if args.out is None else _local(args.out, "--out")
        return _run_on_engine(args, replay_options(_local(args.replay, "--replay"), out=out, overwrite=args.overwrite))
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
    return _run_on_engine(args, options)


def _cmd_diff(args: argparse.Namespace) -> int:
    from adjudicator.diff.runs import diff_runs
    from adjudicator.diff.summary import format_diff_summary

    old, new = _local(args.old_out, "OLD_OUT"), _local(args.new_out, "NEW_OUT")
    with oversight.run_log(args, EngineSettings()) as log:
        try:
            summary = diff_runs(old, new, _local(args.out, "--out"), overwrite=args.overwrite, log=log)
        except BaseException as exc:
            if not isinstance(exc, SystemExit | GeneratorExit):
                oversight.report_failure(args, log, exc)
            raise
        log.summary({"totals": summary["totals"]})
    if not args.quiet:
        say(format_diff_summary(summary))
    if args.fail_on_change and summary["totals"]["changed"]:
        return EXIT_CHANGED
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from adjudicator.report.rewrite import rewrite_report

    path = rewrite_report(_local(args.folder, "OUT"))
    if not args.quiet:
        say(f"wrote {path}")
    return EXIT_OK


def _cmd_history(args: argparse.Namespace) -> int:
    target = args.target
    if target[0] == "commit":
        if len(target) != 2:
            raise UsageError("adjudicate history commit needs one OUT folder")
        from adjudicator.publish.history import complete

        section = complete(_local(target[1], "OUT"))
        print(f"history {section['path']}: run committed at version {section['version_written']}")
        return EXIT_OK
    if len(target) != 1:
        raise UsageError("adjudicate history takes one PATH (or: commit OUT)")
    from adjudicator.readers.history import format_versions, versions

    path = local_path(target[0], "PATH")
    print(format_versions(path, versions(path)))
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
            return stopped_by(exc)


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
        limit = resource_limit(exc)
        print(f"adjudicate: error: {f'{limit}: ' if limit else ''}{exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        return stopped_by(exc)
    except Exception as exc:  # the last line of defence: one line, never a traceback
        if received() is not None:
            # the engine reports an interruption as its own error; it is still an interruption
            return interrupted_by_signal()
        problem = refused_by_environment(exc)
        if problem is not None:
            if debug:
                traceback.print_exc()
            print(f"adjudicate: error: {problem} (OUT left as it was)", file=sys.stderr)
            return EXIT_BAD_INPUT
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
