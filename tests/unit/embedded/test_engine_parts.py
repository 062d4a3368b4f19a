"""The engine's four parts: compiled rules, the exact-key prepass, the pure batch function and the local driver.

The batch function must not care where a slice starts: the same input at
batches of 1, 7, 1,000 lines and the whole file gives the same rows, equal to
the golden outputs, with duplicates split across files, a claim whose lines
fall in different batches and a member over the unit limit across claims.
"""

from __future__ import annotations

import io
import json
import pickle
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adjudicator import contract
from adjudicator.cli import main
from adjudicator.embedded import driver, prepass
from adjudicator.embedded.driver import adjudicate_frame
from adjudicator.embedded.progress import Progress
from adjudicator.embedded.spill import MAX_PARTITIONS, partitions_for
from adjudicator.engine import facts as engine_facts
from adjudicator.engine.batch import adjudicate_batch
from adjudicator.engine.checks import with_checks
from adjudicator.engine.summary import extended_summary, finish_summary, merge_summary_parts
from adjudicator.errors import InternalError
from adjudicator.options import EngineSettings
from adjudicator.readers.canonical import scan_canonical
from adjudicator.rules.compiled import CompiledRules, compile_rules
from adjudicator.rules.tables import RuleSet, load_rules
from tests.helpers import GOLDEN_DIR, SAMPLE, raw_frame
from tests.support.claim_lines import line
from tests.support.golden import RESULT_COLUMNS, as_text


def rules() -> RuleSet:
    return load_rules()


def _split_sample(folder: Path) -> tuple[Path, Path]:
    """The sample in two files, cut between the two copies of CLM000006 line 1 (a duplicate across files)."""
    text = SAMPLE.read_text().splitlines(keepends=True)
    header, rows = text[0], text[1:]
    copies = [i for i, row in enumerate(rows) if row.startswith("CLM000006,1,")]
    assert len(copies) == 2
    cut = copies[0] + 1
    first, second = folder / "part1.csv", folder / "part2.csv"
    first.write_text(header + "".join(rows[:cut]))
    second.write_text(header + "".join(rows[cut:]))
    return first, second


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.parametrize("batch_size", [1, 7, 1_000, None])
def test_any_batch_size_gives_the_golden_outputs(tmp_path: Path, batch_size: int | None) -> None:
    """Through the CLI and both Parquet writers: byte-identical content at every batch size."""
    sized = [] if batch_size is None else ["--engine-settings", json.dumps({"batch_size": batch_size})]
    first, second = _split_sample(tmp_path)
    out = tmp_path / "out"
    assert main(["run", str(first), str(second), "--out", str(out), "--quiet", *sized]) == 0
    results = as_text(pl.read_parquet(out / "results.parquet").select(RESULT_COLUMNS))
    rejects = as_text(pl.read_parquet(out / "rejects.parquet").drop("run_id", "source_file"))
    assert results.equals(pl.read_csv(GOLDEN_DIR / "sample_results.csv", infer_schema=False))
    assert rejects.equals(pl.read_csv(GOLDEN_DIR / "sample_rejects.csv", infer_schema=False))
    counts = json.loads((out / "manifest.json").read_text())["counts"]
    golden = json.loads((GOLDEN_DIR / "sample_counts.json").read_text())
    assert counts == golden
    # the cases the invariance must cover are in the sample
    assert ["duplicate_key"] in pl.read_parquet(out / "rejects.parquet")["failed_checks"].to_list()
    over = pl.read_parquet(out / "results.parquet").filter(pl.col("edits").list.contains("UNITS_EXCEED_DAILY_LIMIT"))
    assert over.filter(pl.col("member_id") == "M9999")["claim_id"].n_unique() == 2


def _run_in_slices(raw: pl.LazyFrame, compiled: CompiledRules, cuts: list[int]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The batch function on the slices between ``cuts`` of the raw lines, with the whole batch's facts."""
    facts = prepass.find_facts(raw, compiled)
    lines = raw.collect()
    bounds = [0, *sorted(c for c in cuts if 0 < c < lines.height), lines.height]
    outs = [adjudicate_batch(lines[a:b], facts, compiled, "r") for a, b in zip(bounds, bounds[1:], strict=False)]
    empty = adjudicate_batch(lines.head(0), facts, compiled, "r")
    return (
        pl.concat([empty.results, *(o.results for o in outs)]),
        pl.concat([empty.rejects, *(o.rejects for o in outs)]),
    )


@st.composite
def split_batches(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[int]]:
    rows = [draw(line(i)) for i in range(draw(st.integers(1, 40)))]
    cuts = draw(st.lists(st.integers(0, len(rows)), max_size=6))
    return rows, cuts


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(split_batches())
def test_random_splits_of_random_lines_give_the_outputs_of_one_batch(
    case: tuple[list[dict[str, Any]], list[int]],
) -> None:
    rows, cuts = case
    compiled = compile_rules(load_rules())
    raw = raw_frame(rows)
    whole_results, whole_rejects, _ = adjudicate_frame(raw, compiled, run_id="r")
    results, rejects = _run_in_slices(raw, compiled, cuts)
    assert results.equals(whole_results)
    assert rejects.equals(whole_rejects)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(split_batches())
def test_a_batchs_tallies_and_arrow_table_agree_with_its_decoded_results(
    case: tuple[list[dict[str, Any]], list[int]],
) -> None:
    """The writer's Arrow table, the counts by reason and the report's partials are built from verdict rows,
    not from the decoded results: each must equal what the decoded results give."""
    rows, cuts = case
    compiled = compile_rules(load_rules())
    raw = raw_frame(rows)
    facts = prepass.find_facts(raw, compiled)
    lines = raw.collect()
    bounds = [0, *sorted(c for c in cuts if 0 < c < lines.height), lines.height]
    outs = [adjudicate_batch(lines[a:b], facts, compiled, "r") for a, b in zip(bounds, bounds[1:], strict=False)]
    parts, offset = [], 0
    for out in outs:
        written = io.BytesIO()
        pq.write_table(out.results_table(), written, store_schema=False)
        written.seek(0)
        assert pl.read_parquet(written).equals(out.results)
        by_reason = out.results.group_by("determination", "reason").agg(
            pl.len().cast(pl.Int64).alias("lines"), pl.col("billed_amount").sum().alias("billed")
        )
        assert out.by_reason.sort(pl.all(), nulls_last=True).equals(by_reason.sort(pl.all(), nulls_last=True))
        parts.append(out.summary_parts(row_offset=offset))
        offset += out.rejects.height
    results = pl.concat([o.results for o in outs])
    rejects = pl.concat([o.rejects for o in outs])
    assert finish_summary(merge_summary_parts(parts)) == extended_summary(results.lazy(), rejects.lazy())


def test_the_samples_summary_from_tallies_equals_the_one_from_its_results(compiled: CompiledRules) -> None:
    """Batches of 7 sample lines: many tally rows share a month, payer and verdict across batches."""
    raw = scan_canonical([str(SAMPLE)])
    results, rejects, totals = adjudicate_frame(raw, compiled, run_id="r", batch_size=7)
    assert totals.summary()["extended"] == extended_summary(results.lazy(), rejects.lazy())
    by_reason = results.group_by("determination", "reason").agg(
        pl.len().cast(pl.Int64).alias("lines"), pl.col("billed_amount").sum().alias("billed")
    )
    summed = totals.summary()["by_reason"]
    assert summed.sort(pl.all(), nulls_last=True).equals(by_reason.sort(pl.all(), nulls_last=True))


def test_compiled_rules_pickle_small_and_decide_alike(compiled: CompiledRules) -> None:
    """The Spark engine ships the compiled rules to executors: they must pickle, stay small, and decide alike."""
    blob = pickle.dumps(compiled)
    assert len(blob) < 4 << 20  # 2.8 MB for the shipped rules: 5,665 decision rows, most of it messages
    again = pickle.loads(blob)
    raw = scan_canonical([str(SAMPLE)])
    assert adjudicate_frame(raw, again, run_id="r")[0].equals(adjudicate_frame(raw, compiled, run_id="r")[0])


def test_facts_are_exact_keys_even_when_every_spill_hash_collides(
    compiled: CompiledRules, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [
        {"claim_id": "A", "line_number": "1"},
        {"claim_id": "A", "line_number": "1"},
        {"claim_id": "B", "line_number": "1", "member_id": "MB"},
        {"claim_id": "C", "line_number": "2", "member_id": "MC"},
        {"claim_id": "P", "line_number": "1", "procedure_code": "97546", "member_id": "MP"},
    ]
    honest = prepass.find_facts(raw_frame(rows), compiled, expected_rows=len(rows))
    monkeypatch.setattr(prepass, "spill_hash", lambda expr: pl.lit(3, dtype=pl.UInt64))
    # the spilled key check, 2 lines per partition, and the edits 1 concerned line per partition
    small = EngineSettings(rows_per_partition=2, hashes_in_memory=0, concerned_rows_per_partition=1)
    collided = prepass.find_facts(raw_frame(rows), compiled, expected_rows=len(rows), settings=small)
    for facts in (honest, collided):
        keys = facts.keys.sort(contract.CLAIM_ID)
        assert keys.filter(pl.col(engine_facts.DUPLICATE))[contract.CLAIM_ID].to_list() == ["A"]
        assert keys.filter(pl.col(engine_facts.FIRED["addon_without_primary"]))[contract.CLAIM_ID].to_list() == ["P"]
        assert facts.edit_lines == 1


def test_duplicates_from_hashes_in_memory_are_exact_and_equal_the_spilled_ones(
    tmp_path: Path, compiled: CompiledRules, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Up to ``EngineSettings.hashes_in_memory`` lines the key check sorts the key hashes in memory; a hash every
    key shares makes every line a candidate, and the exact keys still decide."""
    rows = [
        {"claim_id": "A", "line_number": "1"},
        {"claim_id": "A", "line_number": "1"},
        {"claim_id": "A", "line_number": "2"},
        {"claim_id": "B", "line_number": "1"},
        {"claim_id": " B", "line_number": "01"},  # trimmed and parsed: the same key as B/1
        {"claim_id": "C", "line_number": "x"},  # no key: never a duplicate
        {"claim_id": "C", "line_number": "x"},
    ]
    typed = with_checks(raw_frame(rows))
    expected = pl.DataFrame({"claim_id": ["A", "B"], "line_number": [1, 1]})
    spilled = prepass.duplicate_keys(typed, 3, tmp_path / "keys")
    in_memory = prepass.repeated_keys(typed)
    monkeypatch.setattr(prepass, "key_hash", lambda: pl.lit(5, dtype=pl.UInt64))
    collided = prepass.repeated_keys(typed)
    for found in (spilled, in_memory, collided):
        assert found.sort(pl.all()).equals(expected)
    assert prepass.repeated_keys(with_checks(raw_frame([{"claim_id": "A"}]))).height == 0


@pytest.mark.parametrize("partitions", [1, 5])  # 5: 48 concerned lines, 10 per partition
def test_spilled_edit_facts_equal_the_unspilled_ones(tmp_path: Path, compiled: CompiledRules, partitions: int) -> None:
    """Partitioned by claim for the add-on edit, by member for the unit limit: the same facts."""
    rows = [
        {"claim_id": "U1", "line_number": "1", "member_id": "MU", "units": "3"},
        {"claim_id": "U2", "line_number": "1", "member_id": "MU", "units": "3"},
        {"claim_id": "A1", "line_number": "1", "procedure_code": "97545"},
        {"claim_id": "A1", "line_number": "2", "procedure_code": "97546"},
        {"claim_id": "A2", "line_number": "1", "procedure_code": "97546"},
        {"claim_id": "D", "line_number": "1"},
        {"claim_id": "D", "line_number": "1"},
        {"claim_id": "B", "line_number": "1", "units": "0"},
        *({"claim_id": f"K{i}", "line_number": "1", "member_id": f"M{i % 7}"} for i in range(40)),
    ]
    raw = raw_frame(rows)
    sized = EngineSettings(concerned_rows_per_partition=10 if partitions > 1 else 10**6)
    spilled = prepass.find_facts(raw, compiled, spill_dir=tmp_path, expected_rows=len(rows), settings=sized)
    whole = prepass.find_facts(raw, compiled, settings=EngineSettings(concerned_rows_per_partition=10**6))
    assert spilled.keys.sort(contract.CLAIM_ID, contract.LINE_NUMBER).equals(
        whole.keys.sort(contract.CLAIM_ID, contract.LINE_NUMBER)
    )
    fired = spilled.keys.filter(pl.col(engine_facts.FIRED["units_exceed_limit"]))
    assert {"U1", "U2"} <= set(fired[contract.CLAIM_ID])
    assert spilled.keys.filter(pl.col(engine_facts.DUPLICATE))[contract.CLAIM_ID].to_list() == ["D"]
    assert list(tmp_path.iterdir()) == []  # the prepass removes its spill


def test_an_edit_fact_the_batches_never_meet_is_an_internal_error(compiled: CompiledRules) -> None:
    """A line the prepass names for an edit that no batch finds as a valid concerned line stops the run."""
    raw = raw_frame([{"claim_id": "A", "line_number": "1", "procedure_code": "97546"}])
    facts = prepass.find_facts(raw, compiled)
    assert facts.edit_lines == 1
    lines = raw.collect()
    # the batch itself counts what it met; the driver compares with the prepass
    assert adjudicate_batch(lines, facts, compiled, "r").fired_lines == 1
    forged = engine_facts.BatchFacts(
        keys=facts.keys.with_columns(pl.lit("Z").alias(contract.CLAIM_ID)), edit_lines=facts.edit_lines
    )
    assert adjudicate_batch(lines, forged, compiled, "r").fired_lines == 0

    def forged_facts(*args: object, **kwargs: object) -> engine_facts.BatchFacts:
        return forged

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(driver, "find_facts", forged_facts)
        with pytest.raises(InternalError, match="edit"):
            adjudicate_frame(raw, compiled, run_id="r")


@pytest.mark.parametrize(
    ("rows", "parts"), [(0, 1), (1, 1), (2_500_000, 1), (2_500_001, 2), (20_000_000, 8), (10**12, MAX_PARTITIONS)]
)
def test_partitions_grow_with_the_input_and_are_bounded(rows: int, parts: int) -> None:
    """The prepass's key check, at its default lines per partition: 1 to ``MAX_PARTITIONS`` (1,024) parts."""
    per_partition = EngineSettings().rows_per_partition
    assert per_partition == 2_500_000
    assert partitions_for(rows, per_partition) == parts


def test_reader_settings_are_applied_unless_the_environment_sets_them(monkeypatch: pytest.MonkeyPatch) -> None:
    from adjudicator.embedded.tuning import READER_SETTINGS, tune_reader

    first, *rest = READER_SETTINGS
    monkeypatch.setenv(first, "7")
    for name in rest:
        monkeypatch.delenv(name, raising=False)
    tune_reader()
    import os

    assert os.environ[first] == "7"
    assert all(os.environ[name] == READER_SETTINGS[name] for name in rest)


@pytest.mark.e2e
def test_results_read_back_alike_in_polars_pyarrow_and_duckdb(tmp_path: Path) -> None:
    """The outputs are written batch by batch; the files must be plain Parquet to every reader."""
    import duckdb
    import pyarrow.parquet as pq

    out = tmp_path / "out"
    assert main(["run", str(SAMPLE), "--out", str(out), "--quiet"]) == 0
    path = out / "results.parquet"
    by_polars = pl.read_parquet(path)
    by_pyarrow = pl.from_arrow(pq.read_table(path))
    assert isinstance(by_pyarrow, pl.DataFrame)
    assert by_pyarrow.schema == by_polars.schema and by_pyarrow.equals(by_polars)
    assert str(pq.read_schema(path).field("determination").type) in ("string", "large_string")
    by_duckdb = duckdb.sql(f"SELECT determination, count(*) AS n FROM '{path}' GROUP BY 1 ORDER BY 1").pl()
    expected = by_polars.group_by("determination").len().sort("determination")
    assert by_duckdb["n"].to_list() == expected["len"].to_list()


@pytest.mark.e2e
def test_results_keep_the_statistics_a_reader_prunes_with(tmp_path: Path) -> None:
    """Statistics are written where they can skip a row group (dates, codes, payers, the determination), not
    for one-per-line ids or the mostly-null decision details."""
    import pyarrow.parquet as pq

    out = tmp_path / "out"
    assert main(["run", str(SAMPLE), "--out", str(out), "--quiet"]) == 0
    group = pq.ParquetFile(out / "results.parquet").metadata.row_group(0)
    has_stats = {group.column(i).path_in_schema: group.column(i).is_stats_set for i in range(group.num_columns)}
    assert all(has_stats[c] for c in ("service_date", "payer_id", "procedure_code", "determination"))
    assert not any(has_stats[c] for c in ("claim_id", "member_id", "reason", "policy_id", "message", "run_id"))
    determination = group.column(list(has_stats).index("determination")).statistics
    assert determination.min <= "NO_ACTION" <= determination.max


@pytest.mark.e2e
def test_an_out_folder_named_with_glob_characters_spills_and_publishes(tmp_path: Path) -> None:
    """The prepass's spill files live beside OUT: their names must be read literally, never as patterns."""
    # the spilled key check, and the edits' spill in several partitions
    small = {"rows_per_partition": 50, "hashes_in_memory": 0, "concerned_rows_per_partition": 5}
    out = tmp_path / "night [1] *"
    assert main(["run", str(SAMPLE), "--out", str(out), "--quiet", "--engine-settings", json.dumps(small)]) == 0
    counts = json.loads((out / "manifest.json").read_text())["counts"]
    assert counts == json.loads((GOLDEN_DIR / "sample_counts.json").read_text())


class _Terminal:
    """A stderr stand-in that says it is (or is not) a terminal and keeps what is written."""

    def __init__(self, tty: bool) -> None:
        self.tty, self.text = tty, ""

    def isatty(self) -> bool:
        return self.tty

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass


@pytest.mark.parametrize(("tty", "enabled", "shown"), [(True, True, True), (False, True, False), (True, False, False)])
def test_progress_goes_to_a_terminal_only_and_never_when_quiet(tty: bool, enabled: bool, shown: bool) -> None:
    stream = _Terminal(tty)
    progress = Progress(1_000, enabled=enabled, after_s=0.0, stream=stream)  # type: ignore[arg-type]
    progress.update(250)
    progress.finish()
    assert ("250 of 1,000 lines" in stream.text) is shown
    assert stream.text.endswith("\n") is shown


def test_progress_waits_a_few_seconds_before_showing() -> None:
    stream = _Terminal(True)
    progress = Progress(10, enabled=True, stream=stream)  # type: ignore[arg-type]
    progress.update(5)
    assert stream.text == ""


def test_fired_lookup_equals_a_join_on_exact_keys() -> None:
    """The binary search over fired keys' hashes gives what a join on (claim_id, line_number) gives."""
    keys = pl.DataFrame(
        {
            contract.CLAIM_ID: [f"C{i}" for i in range(0, 300, 3)],
            contract.LINE_NUMBER: [i % 4 + 1 for i in range(0, 300, 3)],
        }
    ).with_columns(
        pl.lit(False).alias(engine_facts.DUPLICATE),
        (pl.int_range(pl.len()) % 2 == 0).alias(engine_facts.FIRED["addon_without_primary"]),
        (pl.int_range(pl.len()) % 2 == 1).alias(engine_facts.FIRED["units_exceed_limit"]),
    )
    facts = engine_facts.BatchFacts(keys=keys, edit_lines=keys.height)
    lines = pl.DataFrame(
        {
            contract.CLAIM_ID: [f"C{i}" for i in range(300)] + [None, "C3"],
            contract.LINE_NUMBER: [i % 4 + 1 for i in range(300)] + [1, 99],
        }
    )
    expected = lines.join(keys, on=[contract.CLAIM_ID, contract.LINE_NUMBER], how="left", maintain_order="left")
    got = facts.fired(lines)
    for column in engine_facts.FIRED.values():
        assert got[column].to_list() == expected[column].fill_null(False).to_list()
    assert int(got.select(pl.any_horizontal(pl.all())).to_series().sum()) == keys.height


@pytest.mark.e2e
def test_top_claims_from_the_claim_spill_equal_sums_over_the_outputs(tmp_path: Path) -> None:
    """Per-claim sums go to disk batch by batch and are summed part by part: the top claims must not change."""
    from adjudicator.engine.summary import extended_summary

    small = {
        "batch_size": 7,  # a claim's lines fall in different batches
        "claims_per_partition": 5,  # and the claim sums in several parts
        "rows_per_partition": 5,
        "hashes_in_memory": 0,  # the spilled key check
    }
    out = tmp_path / "out"
    assert main(["run", str(SAMPLE), "--out", str(out), "--quiet", "--engine-settings", json.dumps(small)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    whole = extended_summary(pl.scan_parquet(out / "results.parquet"), pl.scan_parquet(out / "rejects.parquet"))
    assert manifest["summary"]["top_claims"] == whole["top_claims"]
    assert len(whole["top_claims"]) == 10
