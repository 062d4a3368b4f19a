"""The ``adjudicate`` command line: argument parsing, the terminal summary, and exit codes."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import re
import signal
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from adjudicator.embedded.tuning import tune_reader
from adjudicator.errors import (
    EXIT_BAD_INPUT,
    EXIT_CHANGED,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    AdjudicatorError,
    InternalError,
    UsageError,
    first_line,
)
from adjudicator.options import EngineSettings, RunOptions, Slice

DESCRIPTION = """\
Adjudicate work hardening / work conditioning claim lines (CPT 97545, 97546)
against date-ranged medical policies and the member's benefit plan.

Each valid line gets a determination (NOT_MEDICALLY_NECESSARY,
BENEFIT_PLAN_REVIEW or NO_ACTION) with its reason, the policy version in effect
on its date of service, proposed adjustment codes and edits. Lines that break
the input contract go to rejects with every check they failed.
"""

EPILOG = """\
exit codes: 0 the run completed (rejects included); 2 bad input, rules or
options (one line on stderr names the file and the problem; OUT untouched);
3 internal error or a full disk (--debug shows the traceback); 130 interrupted
(Ctrl-C), 143 terminated (SIGTERM): temporary files removed, OUT untouched.

example:
  adjudicate run sample_claims/claims.csv --out out/sample
"""


DIFF_EPILOG = """\
exit codes: 0 compared (changes or not); 1 with --fail-on-change when any line
changed, appeared, disappeared or moved between results and rejects;
2 bad input or options (one line on stderr; DIFF_OUT untouched); 3 internal error
or a full disk; 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).

example:
  adjudicate diff out/last-night out/new-rules --out out/what-changed --fail-on-change
"""


def _date(option: str, text: str | None) -> dt.date | None:
    """An option's date, or a one-line usage error naming the option (not argparse's usage dump)."""
    if text is None:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        with contextlib.suppress(ValueError):
            return dt.date.fromisoformat(text.strip())
    raise UsageError(f"{option}: {text!r} is not a date YYYY-MM-DD")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="adjudicate",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--debug", action="store_true", help="show a traceback on errors")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="adjudicate claim-line files and write Parquet results",
        description="Adjudicate claim-line files into OUT/results.parquet, "
        "OUT/rejects.parquet, OUT/manifest.json and OUT/report.html.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "inputs",
        nargs="*",
        metavar="INPUT",
        help="claim-line files (CSV or Parquet; globs such as 'claims/*.parquet' are expanded)",
    )
    run.add_argument("--out", type=Path, default=None, help="output folder (created; required unless --replay)")
    run.add_argument(
        "--replay",
        type=Path,
        default=None,
        metavar="MANIFEST",
        help="re-run a past run from its manifest.json: same inputs, rules and options; refuses if any "
        "input or rule table changed since (checksums differ). --out defaults to the run's own OUT",
    )
    run.add_argument(
        "--rules",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder of rule tables (default: the shipped rules/)",
    )
    run.add_argument(
        "--plans",
        type=Path,
        default=None,
        metavar="FILE",
        help="benefit-plans CSV replacing the shipped sample (contract section 3 layout)",
    )
    run.add_argument(
        "--layout",
        default=None,
        help="input layout (default: detected from the file; see the README for the list)",
    )
    run.add_argument("--payer", default=None, metavar="PAYER_ID", help="set payer_id on every line")
    run.add_argument(
        "--rules-as-of", default=None, metavar="DATE", help="use only policy rows published on or before DATE"
    )
    run.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing OUT, only when it is an earlier output of this tool",
    )
    sliced = run.add_argument_group(
        "slices (reprocessing)",
        "only lines inside the slice are adjudicated; the others are counted as skipped",
    )
    sliced.add_argument("--service-from", default=None, metavar="DATE", help="first date of service (inclusive)")
    sliced.add_argument("--service-to", default=None, metavar="DATE", help="last date of service (inclusive)")
    sliced.add_argument(
        "--only-payer", action="append", default=[], metavar="PAYER_ID", help="only this payer's lines (repeatable)"
    )
    sliced.add_argument(
        "--claims",
        type=Path,
        default=None,
        metavar="FILE",
        help="only these claim ids (a file, one per line; a header, quotes, BOM, CRLF are fine)",
    )
    engine = run.add_argument_group(
        "engine",
        'where the lines are adjudicated: the same rules and results either way (README, "Running on Spark")',
    )
    engine.add_argument(
        "--engine",
        choices=ENGINES,
        default="embedded",
        help="embedded (default): this process; spark: a Spark session (the active one under spark-submit, "
        "else one started on --spark-master), writing OUT/results/ and OUT/rejects/ datasets; needs the "
        "'spark' extra",
    )
    engine.add_argument(
        "--spark-master",
        default=None,
        metavar="URL",
        help="with --engine spark: the master of a new session (local[2], spark://host:7077)",
    )
    engine.add_argument(
        "--engine-settings",
        default=None,
        metavar="JSON",
        help="sizes of the engine's work as a JSON object, e.g. '{\"batch_size\": 50000}' (adjudicator.options."
        "EngineSettings); they change memory and speed, never a result",
    )
    run.add_argument("--quiet", action="store_true", help="print no summary")
    run.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show a traceback on errors")

    diff = commands.add_parser(
        "diff",
        help="compare two runs line by line and show what changed",
        description="Compare the runs in OLD_OUT and NEW_OUT on (claim_id, line_number).\n"
        "DIFF_OUT/changes.parquet lists every line whose determination, reason, policy\n"
        "version, codes or edits differ, that is in one run only, or that is a result in\n"
        "one run and a reject in the other, old and new values side by side.\n"
        "DIFF_OUT/summary.json holds the summary printed here; DIFF_OUT/report.html shows it.",
        epilog=DIFF_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    diff.add_argument("old_out", type=Path, metavar="OLD_OUT", help="output folder of the earlier run")
    diff.add_argument("new_out", type=Path, metavar="NEW_OUT", help="output folder of the later run")
    diff.add_argument("--out", required=True, type=Path, metavar="DIFF_OUT", help="diff output folder (created)")
    diff.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing DIFF_OUT, only when it is an earlier output of this tool",
    )
    diff.add_argument("--fail-on-change", action="store_true", help="exit 1 when any line changed (for pipelines)")
    diff.add_argument("--quiet", action="store_true", help="print no summary")
    diff.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show a traceback on errors")

    report = commands.add_parser(
        "report",
        help="(re)write OUT/report.html of an existing run or diff folder",
        description="(Re)write OUT/report.html from OUT/manifest.json (a run) or OUT/summary.json and\n"
        "changes.parquet (a diff). A run's report reads nothing but its manifest. Every run\n"
        "and diff already writes one; this re-renders it (after an upgrade, say).",
        epilog="exit codes: 0 written; 2 OUT is not a run or diff folder, or its manifest is unreadable;\n"
        "3 internal error.\n\nexample:\n  adjudicate report out/sample",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument("folder", type=Path, metavar="OUT", help="output folder of a run or a diff")
    report.add_argument("--quiet", action="store_true", help="print nothing")
    report.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show a traceback on errors")
    return top


#: the engines ``adjudicate run --engine`` accepts
ENGINES = ("embedded", "spark")


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

    if args.replay is not None:
        if args.inputs:
            raise UsageError("give either INPUT files or --replay MANIFEST, not both")
        manifest = _run_on_engine(args, replay_options(args.replay, out=args.out, overwrite=args.overwrite))
        if not args.quiet:
            print(format_summary(manifest))
        return EXIT_OK
    if not args.inputs or args.out is None:
        raise UsageError("adjudicate run needs INPUT files and --out OUT (or --replay MANIFEST)")
    service_from = _date("--service-from", args.service_from)
    service_to = _date("--service-to", args.service_to)
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
        rules_as_of=_date("--rules-as-of", args.rules_as_of),
        slice=Slice(
            service_from=service_from,
            service_to=service_to,
            payers=tuple(args.only_payer),
            claims_file=args.claims,
        ),
        command_line=tuple(sys.argv),
    )
    manifest = _run_on_engine(args, options)
    if not args.quiet:
        print(format_summary(manifest))
    return EXIT_OK


def format_summary(manifest: dict[str, Any]) -> str:
    counts = manifest["counts"]
    engine = f"  engine spark ({manifest['engine']['master']})" if "engine" in manifest else ""
    lines = [
        f"run {manifest['run_id']}  layout {manifest['layout']}{engine}  -> {manifest['options']['out']}",
        f"lines read {counts['read']:>12,}   results {counts['results']:>12,}   "
        f"rejects {counts['rejects']:>10,}   skipped {counts['skipped']:>10,}   "
        f"reconciled {counts['reconciled']}",
        "",
        f"{'determination':<26}{'reason':<30}{'lines':>12}{'billed':>18}",
    ]
    for row in counts["by_reason"]:
        lines.append(
            f"{row['determination']:<26}{row['reason'] or '-':<30}{row['lines']:>12,}{row['billed_amount']:>18}"
        )
    lines.append(f"{'flagged (not NO_ACTION)':<56}{counts['flagged_lines']:>12,}{counts['flagged_billed_amount']:>18}")
    if counts["rejects_by_check"]:
        lines += ["", f"{'reject check':<56}{'lines':>12}"]
        lines += [f"{k:<56}{v:>12,}" for k, v in counts["rejects_by_check"].items()]
    # the phases follow one another; start-up (process start to the first batch read) overlaps them
    seconds = sum(v for k, v in manifest["timings"].items() if k != "startup_s" and v is not None)
    lines += ["", f"done in {seconds:.2f}s"]
    return "\n".join(lines)


def _cmd_diff(args: argparse.Namespace) -> int:
    from adjudicator.diff.compare import diff_runs, format_diff_summary

    summary = diff_runs(args.old_out, args.new_out, args.out, overwrite=args.overwrite)
    if not args.quiet:
        print(format_diff_summary(summary))
    if args.fail_on_change and summary["totals"]["changed"]:
        return EXIT_CHANGED
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from adjudicator.report.render import rewrite_report

    path = rewrite_report(args.folder)
    if not args.quiet:
        print(f"wrote {path}")
    return EXIT_OK


COMMANDS = {"run": _cmd_run, "diff": _cmd_diff, "report": _cmd_report}


class Terminated(KeyboardInterrupt):
    """SIGTERM (cron, systemd, Kubernetes) unwinds the run exactly as Ctrl-C does: temporary folders are
    removed on the way out and OUT is left as it was."""


class _Signals:
    """Which stop signal arrived, so that an engine error raised by the interruption reads as one."""

    received: int | None = None


def _on_signal(signum: int, frame: FrameType | None) -> None:
    _Signals.received = signum
    if signum == signal.SIGTERM:
        raise Terminated
    raise KeyboardInterrupt


@contextlib.contextmanager
def _stop_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise in the main thread while a command runs (only where handlers can be set)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _Signals.received = None
    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _interrupted(terminated: bool) -> int:
    if terminated:
        print("adjudicate: terminated (SIGTERM); temporary files removed, OUT left as it was", file=sys.stderr)
        return EXIT_TERMINATED
    print("adjudicate: interrupted; OUT left as it was", file=sys.stderr)
    return EXIT_INTERRUPTED


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
    with _stop_signals():
        try:
            return _main(argv)
        except KeyboardInterrupt as exc:
            return _interrupted(isinstance(exc, Terminated))


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
        if _Signals.received is not None:
            return _interrupted(_Signals.received == signal.SIGTERM)
        return _internal_error(exc, debug)
    except AdjudicatorError as exc:
        if _Signals.received is not None:
            # a read cut short by the signal reads as bad input; it is the interruption
            return _interrupted(_Signals.received == signal.SIGTERM)
        if debug:
            traceback.print_exc()
        print(f"adjudicate: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        return _interrupted(isinstance(exc, Terminated))
    except Exception as exc:  # the last line of defence: one line, never a traceback
        if _Signals.received is not None:
            # the engine reports an interruption as its own error; it is still an interruption
            return _interrupted(_Signals.received == signal.SIGTERM)
        return _internal_error(exc, debug)
    except BaseException as exc:
        # a panic in the engine (pyo3's PanicException is a BaseException); after a stop signal it is the
        # interruption, otherwise a bug: one line either way
        if type(exc).__name__ != "PanicException":
            raise
        if _Signals.received is not None:
            return _interrupted(_Signals.received == signal.SIGTERM)
        if debug:
            traceback.print_exc()
        print(
            f"adjudicate: internal error: engine panic: {first_line(exc)} "
            "(OUT left as it was; rerun with --debug for a traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())

__all__ = ["EXIT_BAD_INPUT", "main", "parser"]
