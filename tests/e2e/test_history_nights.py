"""The nightly history (contract section 7): the edits across nights give tonight's lines what one night holding
every line gives them; the table is read back by deltalake and by polars; a replay after a later night reproduces
its run; a read-only run commits nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import deltalake
import polars as pl
import pytest

from adjudicator.cli import main
from adjudicator.errors import EXIT_BAD_INPUT, EXIT_OK
from adjudicator.report.terminal import format_summary
from tests.helpers import BASE_LINE

pytestmark = pytest.mark.e2e

KEY = ["claim_id", "line_number"]


def line(claim: str, number: int, code: str = "97545", **changes: str) -> dict[str, str | None]:
    return {**BASE_LINE, "claim_id": claim, "line_number": str(number), "procedure_code": code, **changes}


def write_night(path: Path, lines: list[dict[str, str | None]]) -> Path:
    pl.DataFrame(lines, schema={c: pl.String for c in BASE_LINE}).write_csv(path)
    return path


def run(out: Path, *inputs: Path | str, history: Path | None = None, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    args = ["run", *map(str, inputs), "--out", str(out), "--quiet", *extra]
    if history is not None:
        args += ["--history", str(history)]
    assert main(args) == EXIT_OK
    return json.loads((out / "manifest.json").read_text())


def verdicts(out: Path) -> pl.DataFrame:
    return pl.read_parquet(out / "results.parquet").select(*KEY, "determination", "edits", "edit_carcs").sort(KEY)


# one row per scenario: the nights in order (a night is one file, or several: a list of files' lines)
SCENARIOS: dict[str, list[list[list[dict[str, str | None]]]]] = {
    "a unit limit crossed across nights": [
        [[line("C1", 1)]],
        [[line("C2", 1)]],
    ],
    "a primary found in the history": [
        [[line("C1", 1, "97545")]],
        [[line("C1", 2, "97546")]],
    ],
    "a re-sent key not double-counted": [
        [[line("C1", 1)]],
        [[line("C1", 1)]],
    ],
    "a claim split over three nights": [
        [[line("C1", 1, "97545")]],
        [[line("C1", 2, "97546")]],
        [[line("C1", 3, "97546"), line("C1", 4, "97545", service_date="2024-05-02"), line("C9", 1)]],
    ],
    "a member over the limit on a day in two payers' files": [
        [[line("A1", 1, payer_id="HCSC", plan_id="HCSC-PPO-100")]],
        [
            [line("B1", 1, payer_id="AETNA", plan_id="AETNA-RIDER-200")],
            [line("B2", 1, "97546", payer_id="AETNA", plan_id="AETNA-RIDER-200")],
        ],
    ],
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_nights_give_tonights_lines_what_one_night_gives(tmp_path: Path, scenario: str) -> None:
    nights = SCENARIOS[scenario]
    history = tmp_path / "history"
    outs = []
    for n, files in enumerate(nights):
        paths = [write_night(tmp_path / f"night{n}-{f}.csv", lines) for f, lines in enumerate(files)]
        out = tmp_path / f"out{n}"
        manifest = run(out, *paths, history=history)
        assert manifest["history"]["state"] == "committed"
        read = manifest["history"]["version_read"]
        # the first night creates the table (version 0) and commits version 1
        assert (read, manifest["history"]["version_written"]) == ((None, 1) if n == 0 else (n, n + 1))
        outs.append(out)
    # the same lines in one night; a re-sent key once, as its last night sent it
    every = [row for files in nights for lines in files for row in lines]
    once = pl.DataFrame(every, schema={c: pl.String for c in BASE_LINE}).unique(KEY, keep="last", maintain_order=True)
    single = run(tmp_path / "single", write_night(tmp_path / "all.csv", once.to_dicts()))
    assert single["counts"]["rejects"] == 0
    together = verdicts(tmp_path / "single")
    for out in outs[1:]:
        tonight = verdicts(out)
        assert tonight.height == pl.read_parquet(out / "results.parquet").height
        assert tonight.equals(together.join(tonight.select(KEY), on=KEY, how="semi").sort(KEY)), scenario
    # one history row per key, read back by delta-rs and by polars alike
    table = deltalake.DeltaTable(history)
    by_delta = pl.from_arrow(table.to_pyarrow_table()).sort(KEY)
    by_polars = pl.read_delta(str(history)).sort(KEY)
    assert isinstance(by_delta, pl.DataFrame)
    assert by_delta.select(by_polars.columns).equals(by_polars)
    assert sorted(by_polars.select(KEY).rows()) == sorted(
        once.select(KEY).with_columns(pl.col("line_number").cast(int)).rows()
    )
    assert by_polars["service_month"].unique().to_list() == sorted({d[:7] for d in once["service_date"].to_list()})


def test_the_limit_across_nights_names_the_earlier_lines(tmp_path: Path) -> None:
    history = tmp_path / "history"
    first = run(tmp_path / "n1", write_night(tmp_path / "n1.csv", [line("C1", 1)]), history=history)
    second = run(tmp_path / "n2", write_night(tmp_path / "n2.csv", [line("C2", 1)]), history=history)
    touched = pl.read_parquet(tmp_path / "n2" / "history_edits.parquet")
    assert touched.to_dicts() == [
        {
            "claim_id": "C2",
            "line_number": 1,
            "edit": "UNITS_EXCEED_DAILY_LIMIT",
            "effect": "made_flagged",
            "earlier_lines": [f"claim C1 line 1 (run {first['run_id']})"],
        }
    ]
    assert second["history"]["effects"] == {"UNITS_EXCEED_DAILY_LIMIT": {"made_flagged": 1}}
    assert second["history"]["lines"] == 1
    # the report and the terminal say how many lines the history made flagged, by edit
    assert (
        "Units over the daily limit (UNITS_EXCEED_DAILY_LIMIT): 1 made flagged"
        in (tmp_path / "n2" / "report.html").read_text()
    )
    assert "lines the history changed: UNITS_EXCEED_DAILY_LIMIT made_flagged 1" in format_summary(second)


def test_a_replay_after_a_later_night_reproduces_the_run(tmp_path: Path) -> None:
    history = tmp_path / "history"
    run(tmp_path / "n1", write_night(tmp_path / "n1.csv", [line("C1", 1), line("K1", 1, "97545")]), history=history)
    night2 = write_night(tmp_path / "n2.csv", [line("C2", 1), line("K1", 2, "97546")])
    second = run(tmp_path / "n2", night2, history=history)
    # a later night: it would change night 2's verdicts if the replay read the latest history
    run(tmp_path / "n3", write_night(tmp_path / "n3.csv", [line("C3", 1), line("K1", 1, "97110")]), history=history)
    latest = deltalake.DeltaTable(history).version()
    assert (
        main(["run", "--replay", str(tmp_path / "n2" / "manifest.json"), "--out", str(tmp_path / "again"), "--quiet"])
        == 0
    )
    again = json.loads((tmp_path / "again" / "manifest.json").read_text())
    assert again["history"]["version_read"] == second["history"]["version_read"]
    assert again["history"]["state"] == "replay"
    assert again["history"]["version_written"] is None
    assert not (tmp_path / "again" / "history_rows.parquet").exists()
    assert deltalake.DeltaTable(history).version() == latest
    a = pl.read_parquet(tmp_path / "n2" / "results.parquet").drop("run_id")
    b = pl.read_parquet(tmp_path / "again" / "results.parquet").drop("run_id")
    assert a.equals(b)
    assert (tmp_path / "n2" / "history_edits.parquet").read_bytes() == (
        tmp_path / "again" / "history_edits.parquet"
    ).read_bytes()
    assert again["counts"] == second["counts"]


def test_a_read_only_run_reads_and_commits_nothing(tmp_path: Path) -> None:
    history = tmp_path / "history"
    run(tmp_path / "n1", write_night(tmp_path / "n1.csv", [line("C1", 1)]), history=history)
    before = deltalake.DeltaTable(history).version()
    what_if = run(
        tmp_path / "n2",
        write_night(tmp_path / "n2.csv", [line("C2", 1)]),
        history=history,
        extra=("--history-read-only",),
    )
    assert what_if["history"]["state"] == "read-only"
    # a what-if run is compared with the run it varies as any two runs are
    assert main(["diff", str(tmp_path / "n1"), str(tmp_path / "n2"), "--out", str(tmp_path / "d"), "--quiet"]) == 0
    changes = pl.read_parquet(tmp_path / "d" / "changes.parquet")
    assert sorted(changes["claim_id"]) == ["C1", "C2"]
    assert what_if["history"]["effects"] == {"UNITS_EXCEED_DAILY_LIMIT": {"made_flagged": 1}}
    assert deltalake.DeltaTable(history).version() == before
    assert not (tmp_path / "n2" / "history_rows.parquet").exists()


def test_a_slice_commits_only_the_lines_it_adjudicated(tmp_path: Path) -> None:
    history = tmp_path / "history"
    night = write_night(
        tmp_path / "n1.csv", [line("C1", 1, payer_id="HCSC"), line("A1", 1, payer_id="AETNA", member_id="M9")]
    )
    manifest = run(tmp_path / "n1", night, history=history, extra=("--only-payer", "AETNA"))
    assert manifest["history"]["lines"] == 1
    assert pl.read_delta(str(history))["claim_id"].to_list() == ["A1"]


def test_history_prints_the_versions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    history = tmp_path / "history"
    first = run(
        tmp_path / "n1", write_night(tmp_path / "n1.csv", [line("C1", 1), line("C1", 2, "97546")]), history=history
    )
    capsys.readouterr()
    assert main(["history", str(history)]) == EXIT_OK
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == f"history {history}: 2 versions"
    assert printed[2].split()[0] == "1"
    assert printed[2].split()[-2:] == ["2", first["run_id"]]
    assert "(CREATE TABLE)" in printed[3]


@pytest.mark.parametrize(
    "args",
    [
        ["run", "x.csv", "--out", "o", "--history-read-only"],
        ["run", "--replay", "m.json", "--history", "h"],
        ["history", "no-such-history"],
        ["history", "commit", "no-such-out"],
    ],
)
def test_history_usage_errors_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write_night(tmp_path / "x.csv", [line("C1", 1)])
    assert main(args) == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("adjudicate: error:")
    assert not (tmp_path / "o").exists()
