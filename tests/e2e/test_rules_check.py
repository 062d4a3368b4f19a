"""The rule tables' pandera check in a helper process: a run gives the same error as an in-process load, stops
at the next batch when the check fails, publishes only after it passes, and never imports pandera itself."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adjudicator.cli import main
from adjudicator.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK, InternalError, RulesError
from adjudicator.rules import check as rules_check
from adjudicator.rules.check import RulesCheck
from adjudicator.rules.schemas import POLICIES
from adjudicator.rules.tables import DEFAULT_RULES_DIR, load_rules
from tests.helpers import ROOT, SAMPLE
from tests.support.rule_tables import BROKEN, append_line

pytestmark = [pytest.mark.e2e, pytest.mark.rules_helper]


def rules_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, target)
    return target


def _run(rules: Path, out: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["run", str(SAMPLE), "--out", str(out), "--rules", str(rules), "--quiet", *extra])
    return code, capsys.readouterr().err.strip()


@pytest.mark.parametrize(("case", "table", "line", "words"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_run_reports_what_an_in_process_load_reports(
    rules_copy: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    table: str,
    line: str,
    words: list[str],
) -> None:
    append_line(rules_copy / table, line)
    with pytest.raises(RulesError) as info:
        load_rules(rules_copy)
    code, err = _run(rules_copy, tmp_path / "out", capsys)
    assert code == EXIT_BAD_INPUT
    assert err == f"adjudicate: error: {info.value}", case
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("table", "column"),
    [(POLICIES, "stance"), ("reasons.csv", "determination"), ("plans.csv", "line_of_business")],
)
def test_a_missing_column_is_the_schemas_error_not_the_engines(
    rules_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, column: str
) -> None:
    """Loaded unvalidated, a table without a column the engine reads fails in the engine first; the run
    reports the schema's error instead (the one a validated load meets first), never a traceback."""
    path = rules_copy / table
    text = path.read_text().splitlines()
    at = text[0].split(",").index(column)
    path.write_text("\n".join(",".join(v for i, v in enumerate(row.split(",")) if i != at) for row in text) + "\n")
    with pytest.raises(RulesError) as info:
        load_rules(rules_copy)
    code, err = _run(rules_copy, tmp_path / "out", capsys)
    assert code == EXIT_BAD_INPUT
    assert err == f"adjudicate: error: {info.value}"
    assert column in err and "Traceback" not in err


def test_the_run_waits_for_the_check_and_stops_between_batches(
    rules_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A check slower than the run still decides (the run waits before publishing); once it has failed, the
    driver stops at the next batch instead of reading on."""
    append_line(rules_copy / "unit_limits.csv", "97546,0,UNITS_EXCEED_DAILY_LIMIT,CO,151,seed x")
    started = RulesCheck.start

    def slow(*args: object, **kwargs: object) -> RulesCheck:
        check = started(*args, **kwargs)  # type: ignore[arg-type]
        assert check is not None
        check._process.wait()
        return check

    monkeypatch.setattr(RulesCheck, "start", slow)
    seen: list[int] = []
    failed = RulesCheck.failed

    def counting(self: RulesCheck) -> None:
        seen.append(1)
        failed(self)

    monkeypatch.setattr(RulesCheck, "failed", counting)
    # batches of 5 lines: the driver meets the failed check while lines are left to read
    code, err = _run(rules_copy, tmp_path / "out", capsys, "--engine-settings", '{"batch_size": 5}')
    assert code == EXIT_BAD_INPUT and "max_units_per_member_day" in err
    assert seen == [1], "the driver went on reading after the check had failed"
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_publishing_waits_for_a_slow_check(
    rules_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    append_line(rules_copy / "reasons.csv", "NOT_A_REASON,NO_ACTION,,,,m,seed x")
    monkeypatch.setattr(rules_check, "_HELPER", "import time; time.sleep(2); " + rules_check._HELPER)
    started = time.perf_counter()
    code, err = _run(rules_copy, tmp_path / "out", capsys)
    assert time.perf_counter() - started >= 2
    assert code == EXIT_BAD_INPUT and "reasons.csv" in err and "reason" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_passing_run_never_imports_pandera(tmp_path: Path) -> None:
    """The start-up budget: pandera (and the pandas it brings) stay in the helper."""
    out = tmp_path / "out"
    program = (
        "import sys\nfrom adjudicator.cli import main\n"
        f"code = main(['run', {str(SAMPLE)!r}, '--out', {str(out)!r}, '--quiet'])\n"
        "heavy = sorted(m for m in ('pandera', 'pandas', 'hypothesis', 'pyarrow.compute') if m in sys.modules)\n"
        "print(code, heavy)\n"
    )
    found = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=ROOT, check=True)
    assert found.stdout.strip() == f"{EXIT_OK} []", found.stderr
    assert (out / "manifest.json").is_file()


def _started() -> RulesCheck:
    check = RulesCheck.start(None, plans=None, as_of=None)
    assert check is not None
    return check


def test_tables_changed_under_the_run_are_refused() -> None:
    check = _started()
    checksums = dict(load_rules(validate=False).checksums)
    checksums["plans.csv"] = "0" * 64
    with pytest.raises(RulesError, match=r"\['plans.csv'\] changed while the run was loading them"):
        check.wait(checksums)


def test_a_helper_that_dies_is_an_internal_error_naming_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A helper that fails by itself (killed, an import error) is the machine's fault or a bug: exit 3, not the
    tables' exit 2, and nothing published."""
    monkeypatch.setattr(rules_check, "_HELPER", "import sys; print('boom', file=sys.stderr); sys.exit(3)")
    check = _started()
    with pytest.raises(InternalError, match=r"rules: the rule tables' check failed: boom"):
        check.wait({})
    code, err = _run(DEFAULT_RULES_DIR, tmp_path / "out", capsys)
    assert code == EXIT_INTERNAL and "the rule tables' check failed: boom" in err
    assert not (tmp_path / "out").exists()


def test_failed_never_waits_and_close_stops_the_helper(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rules_check, "_HELPER", "import time; time.sleep(60)")
    check = _started()
    started = time.perf_counter()
    check.failed()
    assert time.perf_counter() - started < 1
    check.close()
    assert check._process.poll() is not None


def test_a_run_with_rules_given_starts_no_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from adjudicator.run import RunOptions, adjudicate

    def refuse(*args: object, **kwargs: object) -> RulesCheck:
        raise AssertionError("a helper was started although the rules were given")

    monkeypatch.setattr(RulesCheck, "start", refuse)
    manifest = adjudicate(RunOptions(inputs=(str(SAMPLE),), out=tmp_path / "out"), rules=load_rules())
    assert manifest["counts"]["reconciled"]


def test_without_an_interpreter_to_start_the_run_checks_the_tables_itself(
    rules_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    append_line(rules_copy / POLICIES, "UHC,P1,v1,97545,2020-01-01,,MAYBE,,,seed x")
    monkeypatch.setattr(sys, "executable", "")
    assert RulesCheck.start(None, plans=None, as_of=None) is None
    code, err = _run(rules_copy, tmp_path / "out", capsys)
    assert code == EXIT_BAD_INPUT and "stance" in err and "MAYBE" in err
    assert not (tmp_path / "out").exists()
    monkeypatch.undo()
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert RulesCheck.start(None, plans=None, as_of=None) is None
