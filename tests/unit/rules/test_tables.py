"""Rule tables: the shipped ones load and follow the contract; a broken table fails naming table, line and problem."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import polars as pl
import pytest

from adjudicator.errors import RulesError
from adjudicator.rules.schemas import POLICIES
from adjudicator.rules.tables import DEFAULT_RULES_DIR, load_rules
from adjudicator.rules.tiles import complete_versions
from tests.support.rule_tables import BROKEN, append_line


def test_shipped_tables_load_and_cite_seeds() -> None:
    rules = load_rules()
    assert rules.targeted_codes == ["97545", "97546"]
    assert rules.policies["source"].str.contains("seed").all()
    assert set(rules.policies["payer_id"]) == {"ARCHIVE", "HCSC", "AETNA", "CAM", "MEDICARE"}
    # each (payer, version) exists for both codes
    counts = rules.policies.group_by("payer_id", "version").len()
    assert (counts["len"] == 2).all()


def test_hcsc_revision_history_is_one_row_per_revision_date() -> None:
    hcsc = (
        load_rules()
        .policies.filter((pl.col("payer_id") == "HCSC") & (pl.col("procedure_code") == "97545"))
        .sort("effective_date")
    )
    assert hcsc["effective_date"][0] == dt.date(2008, 3, 1)
    assert hcsc.height == 14
    ends = hcsc["end_date"].to_list()
    starts = hcsc["effective_date"].to_list()
    # contiguous: each version ends the day before the next one starts
    assert all(e + dt.timedelta(days=1) == s for e, s in zip(ends[:-1], starts[1:], strict=True))


def rules_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, target)
    return target


@pytest.mark.parametrize(("case", "table", "line", "words"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_table_names_table_line_and_problem(
    rules_copy: Path, case: str, table: str, line: str, words: list[str]
) -> None:
    append_line(rules_copy / table, line)
    with pytest.raises(RulesError) as info:
        load_rules(rules_copy)
    message = str(info.value)
    assert table in message
    for word in words:
        assert word in message, message
    assert "\n" not in message


def test_overlap_message_names_the_line(rules_copy: Path) -> None:
    n = append_line(rules_copy / POLICIES, "CAM,CAM-2,v2,97545,2000-01-01,,NOT_MEDICALLY_NECESSARY,,,seed x")
    with pytest.raises(RulesError, match=f"line {n}"):
        load_rules(rules_copy)


def test_missing_table(rules_copy: Path) -> None:
    (rules_copy / "unit_limits.csv").unlink()
    with pytest.raises(RulesError, match="unit_limits.csv not found"):
        load_rules(rules_copy)


def test_revision_published_later_applies_only_as_of_its_publication(rules_copy: Path) -> None:
    """A retroactive revision: CAM's open version is cut at 2019-12-31 and a new one starts 2020-01-01."""
    for code in ("97545", "97546"):
        append_line(
            rules_copy / POLICIES,
            f"CAM,CAM-80306,1996-11-01,{code},1996-11-01,2019-12-31,NOT_MEDICALLY_NECESSARY,"
            "OUTPATIENT,2021-03-01,seed x revision",
        )
        append_line(
            rules_copy / POLICIES, f"CAM,CAM-80306,2020-01-01,{code},2020-01-01,,BENEFIT_EXCLUSION,,2021-03-01,seed x"
        )
    before = load_rules(rules_copy, as_of=dt.date(2021, 2, 28)).policies
    after = load_rules(rules_copy).policies
    cam_before = before.filter(pl.col("payer_id") == "CAM")
    cam_after = after.filter(pl.col("payer_id") == "CAM").sort("effective_date")
    assert cam_before.height == 2 and cam_before["end_date"].is_null().all()
    assert cam_after.height == 4
    assert cam_after["end_date"].to_list()[:2] == [dt.date(2019, 12, 31)] * 2


def test_complete_versions_tiles_the_date_line() -> None:
    versions = pl.DataFrame(
        {
            "k": ["a", "a", "b"],
            "effective_date": [dt.date(2020, 1, 1), dt.date(2020, 3, 1), None],
            "end_date": [dt.date(2020, 1, 31), None, dt.date(2020, 1, 1)],
            "v": [1, 2, 3],
        }
    )
    tiles = complete_versions(versions, ["k"], ["v"])
    a = tiles.filter(pl.col("k") == "a")
    assert a["_version_found"].to_list() == [False, True, False, True]
    assert a["_effective_date"].to_list() == [None, dt.date(2020, 1, 1), dt.date(2020, 2, 1), dt.date(2020, 3, 1)]
    assert a["_end_date"].to_list() == [dt.date(2019, 12, 31), dt.date(2020, 1, 31), dt.date(2020, 2, 29), None]
    b = tiles.filter(pl.col("k") == "b")
    assert b["_version_found"].to_list() == [True, False]
    assert b["_effective_date"].to_list() == [None, dt.date(2020, 1, 2)]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2019, 12, 31), None),  # day before the first version: a gap tile
        (dt.date(2020, 1, 1), 1),  # first day
        (dt.date(2020, 1, 31), 1),  # last day
        (dt.date(2020, 2, 1), None),  # day after: the gap between versions
        (dt.date(2020, 2, 29), None),  # last day of the gap
        (dt.date(2020, 3, 1), 2),  # first day of the open-ended version
        (dt.date(2999, 12, 31), 2),
    ],
)
def test_tile_position_at_the_boundaries(day: dt.date, expected: int | None) -> None:
    """The one date-ranged lookup: day before, first day, last day and day after of each version."""
    from adjudicator.rules.tiles import _FOUND, complete_versions, tile_position

    versions = pl.DataFrame(
        {
            "k": ["a", "a", "b"],
            "effective_date": [dt.date(2020, 1, 1), dt.date(2020, 3, 1), None],
            "end_date": [dt.date(2020, 1, 31), None, None],
            "v": [1, 2, 3],
        }
    )
    tiles = complete_versions(versions, ["k"], ["v"])
    lines = pl.DataFrame({"k": ["a", "zz", None], "d": [day, day, day]})
    position = tile_position(tiles, left_on=[pl.col("k")], right_on=["k"], date=pl.col("d"))
    found = lines.with_columns(position.alias("p")).with_columns(
        pl.lit(tiles["v"]).gather(pl.col("p")).alias("v"), pl.lit(tiles[_FOUND]).gather(pl.col("p")).alias("f")
    )
    a, unknown, null_key = found.iter_rows(named=True)
    assert (a["v"] if a["f"] else None) == expected
    assert unknown["p"] is None and null_key["p"] is None


def test_unknown_message_placeholder_is_a_rules_error(rules_copy: Path) -> None:
    path = rules_copy / "reasons.csv"
    path.write_text(path.read_text().replace("{policy} (version {version})", "{policy} for {member}", 1))
    with pytest.raises(RulesError, match=r"reasons.csv line \d+: message names unknown placeholders \['member'\]"):
        load_rules(rules_copy)
