"""The ``adjudicate`` command line's arguments: the parser, its help texts, and dates as the options take them."""

from __future__ import annotations

import argparse
import datetime as dt

from adjudicator import options
from adjudicator.about import DISTRIBUTION, __version__
from adjudicator.cli.oversight import add_log_format, add_run_options
from adjudicator.errors import UsageError
from adjudicator.readers.specs import LAYOUTS

#: where a run can be adjudicated (``--engine``)
ENGINES = ("embedded", "spark")

DESCRIPTION = """\
Adjudicate work hardening / work conditioning claim lines (CPT 97545, 97546)
against date-ranged medical policies and the member's benefit plan.

Each valid line gets a determination (NOT_MEDICALLY_NECESSARY,
BENEFIT_PLAN_REVIEW or NO_ACTION) with its reason, the policy version in effect
on its date of service, proposed adjustment codes and edits. Lines that break
the input contract go to rejects with every check they failed.
"""

#: what the top-level help names, so a scheduler's author finds them without the README
CHOICES = f"""\
layouts (--layout): {", ".join(LAYOUTS)}
engines (--engine): {", ".join(ENGINES)}
"""

EPILOG = """\
exit codes: 0 the run completed (rejects included); 2 bad input, rules or
options (one line on stderr names the file and the problem; OUT untouched);
3 internal error or a full disk (--debug shows the traceback); 4 a data-quality
gate failed (--max-reject-rate, --min-results): OUT published for inspection,
its manifest's "gates" names the gate; 5 OUT published but its --history commit
not made (adjudicate history commit OUT completes it); 130 interrupted (Ctrl-C), 143 terminated
(SIGTERM): temporary files removed, OUT untouched.

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


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="adjudicate",
        description=DESCRIPTION + "\n" + CHOICES,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"adjudicate {__version__} ({DISTRIBUTION})")
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
    # path arguments stay text as typed: pathlib.Path would fold 's3://b' into 's3:/b'; the command turns them into
    # paths and refuses a URI naming it (options.local_path)
    run.add_argument("--out", default=None, help="output folder (created; required unless --replay)")
    run.add_argument(
        "--replay",
        default=None,
        metavar="MANIFEST",
        help="re-run a past run from its manifest.json: same inputs, rules and options; refuses if any "
        "input or rule table changed since (checksums differ). --out defaults to the run's own OUT",
    )
    run.add_argument(
        "--rules",
        default=None,
        metavar="DIR",
        help="folder of rule tables (default: the shipped rules/)",
    )
    run.add_argument(
        "--plans",
        default=None,
        metavar="FILE",
        help="benefit-plans CSV replacing the shipped sample (contract section 3 layout)",
    )
    run.add_argument(
        "--layout",
        default=None,
        help=f"input layout, one of {', '.join(LAYOUTS)} (default: detected from the file)",
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
        default=None,
        metavar="FILE",
        help="only these claim ids (a file, one per line; a header, quotes, BOM, CRLF are fine)",
    )
    history = run.add_argument_group(
        "history across nights",
        'edits that count earlier runs\' lines (README, "Nightly history")',
    )
    history.add_argument(
        "--history",
        default=None,
        metavar="PATH",
        help="a Delta Lake table of the lines earlier runs adjudicated that an edit concerns (created on first "
        "use): the unit limit and the add-on edit count them, and tonight's lines join it after OUT is published",
    )
    history.add_argument(
        "--history-read-only",
        action="store_true",
        help="read --history without committing tonight's lines to it (what-if runs)",
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
    add_run_options(run)
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
    diff.add_argument("old_out", metavar="OLD_OUT", help="output folder of the earlier run")
    diff.add_argument("new_out", metavar="NEW_OUT", help="output folder of the later run")
    diff.add_argument("--out", required=True, metavar="DIFF_OUT", help="diff output folder (created)")
    diff.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing DIFF_OUT, only when it is an earlier output of this tool",
    )
    diff.add_argument("--fail-on-change", action="store_true", help="exit 1 when any line changed (for pipelines)")
    diff.add_argument("--quiet", action="store_true", help="print no summary")
    add_log_format(diff)
    diff.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show a traceback on errors")

    report = commands.add_parser(
        "report",
        help="(re)write OUT/report.html of an existing run or diff folder",
        description="(Re)write OUT/report.html from OUT/manifest.json (a run) or OUT/summary.json and\n"
        "changes.parquet (a diff). A run's report reads nothing but its manifest. Every run\n"
        "and diff already writes one; this re-renders it (after an upgrade, say).",
        epilog="exit codes: 0 written; 2 OUT is not a run or diff folder, or its manifest is unreadable,\n"
        "missing keys or holds values of the wrong type (one line names the key);\n"
        "3 internal error.\n\nexample:\n  adjudicate report out/sample",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument("folder", metavar="OUT", help="output folder of a run or a diff")
    report.add_argument("--quiet", action="store_true", help="print nothing")
    report.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show a traceback on errors")
    hist = commands.add_parser(
        "history",
        help="show a history table's versions, or complete a run's history commit",
        description="adjudicate history PATH: the versions of the history table at PATH (run ids, lines\n"
        "added, dates), newest first.\nadjudicate history commit OUT: commit the run in OUT to its history\n"
        "when its commit was not made (exit 5 of its run); does nothing when it was (by run id).",
        epilog="exit codes: 0 done; 2 PATH is not a history table, or OUT not a run with --history;\n"
        "3 internal error.\n\nexamples:\n  adjudicate history history/\n  adjudicate history commit out/night-2",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    hist.add_argument("target", nargs="+", metavar="PATH | commit OUT", help="a history table, or: commit OUT")
    hist.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show a traceback on errors")
    return top


#: the engines ``adjudicate run --engine`` accepts


def parse_date(option: str, text: str | None) -> dt.date | None:
    """An option's date (``options.parse_date``, the rule a replayed manifest meets too), or a one-line usage
    error naming the option (not argparse's usage dump)."""
    try:
        return options.parse_date(option, text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


__all__ = ["ENGINES", "parse_date", "parser"]
