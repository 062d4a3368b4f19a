"""The README is the front door: its two commands are the ones CI and the sample run use."""

from __future__ import annotations

from tests.helpers import ROOT

README = (ROOT / "README.md").read_text()
MAIN = "python3 -m pip install -e . && python3 -m adjudicator run sample_claims/claims.csv --out out/sample --overwrite"
TESTS = "python3 -m pip install -e '.[test]' && python3 -m pytest"


def test_readme_has_the_two_setup_commands() -> None:
    assert MAIN in README
    assert TESTS in README


def test_ci_runs_the_readmes_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python -m pip install -e '.[test]' && python -m pytest" in ci


def test_every_cli_option_is_documented() -> None:
    from adjudicator.cli import parser

    commands = parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name, sub in commands.items():
        for action in sub._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag not in ("--help",):
                    assert flag in README, f"adjudicate {name} {flag} is not in the README"
