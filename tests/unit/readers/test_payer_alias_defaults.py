"""The shipped payer aliases are samples (the X12 guide's example payer ids mapped to real payers): they apply to
no file unless a rules folder opts in by holding a ``payer_aliases.csv``."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl

from adjudicator.contract import PAYER_ID
from adjudicator.options import RunOptions
from adjudicator.readers.inputs import read_inputs
from adjudicator.rules.payer_aliases import PAYER_ALIASES_TABLE
from adjudicator.rules.tables import DEFAULT_RULES_DIR, load_rules
from tests.helpers import ROOT

#: an 837P whose NM1*PR payer id is the X12 guide's example 999996666 (the sample aliases map it to HCSC)
EXAMPLE_837 = ROOT / "tests" / "fixtures" / "layouts" / "professional.837"
SAMPLE_ALIASES = ROOT / "rules" / "samples" / PAYER_ALIASES_TABLE


def _payers(rules_dir: Path | None, tmp_path: Path) -> set[str]:
    options = RunOptions(inputs=(str(EXAMPLE_837),), out=tmp_path / "out", rules_dir=rules_dir)
    inputs = read_inputs(options, load_rules(rules_dir, validate=False))
    assert inputs.layout == "x12-837p"
    return set(inputs.raw.select(pl.col(PAYER_ID)).collect()[PAYER_ID].to_list())


def test_the_default_rules_map_no_payer_id(tmp_path: Path) -> None:
    assert not (DEFAULT_RULES_DIR / PAYER_ALIASES_TABLE).exists()
    assert load_rules(validate=False).payer_aliases is None
    assert _payers(None, tmp_path) == {"999996666"}  # as read: not judged under HCSC's rules


def test_a_rules_folder_holding_the_sample_aliases_opts_in(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    shutil.copy(SAMPLE_ALIASES, rules / PAYER_ALIASES_TABLE)
    assert _payers(rules, tmp_path) == {"HCSC"}
    assert PAYER_ALIASES_TABLE in load_rules(rules, validate=False).files  # recorded in the manifest's rules
