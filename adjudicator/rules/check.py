"""The rule tables' pandera validation, run in a helper process beside the run.

Importing pandera (with the pandas it imports) and validating seven small tables cost a run more of its start-up
(process start to the first batch read) than its budget of 0.5 s allows (docs/benchmarks.md). So a run loads its
rule tables with every check but the pandera schemas (``load_rules(validate=False)``) and starts at once, while a
helper process on the other core loads the same tables the usual way, schemas included, and reports back (a
failure as the error's fields, so the run raises the very same error):

- the run publishes nothing until the helper has passed (``RulesCheck.wait``, called by ``run.publish_run``);
- a table that fails is the same one-line ``RulesError`` (exit 2, OUT untouched) as when the schemas ran in the
  run's own process, and it comes before any error the unchecked tables caused later in the run
  (``RulesCheck.guard``);
- the driver asks between batches (``RulesCheck.failed``), so a long run stops at the next batch, not at its end;
- the helper returns the checksum of each table it checked, and a table whose bytes differ from those the run
  loaded is refused: the tables checked are the tables used;
- a helper that fails by itself (killed, an import error) is ``InternalError`` (exit 3), never a pass.

The helper runs ``main`` of this module with the run's rules folder, plans file and ``--rules-as-of``, in an
isolated interpreter (``-I``: nothing from the working folder or the PYTHON* variables; ``import_path``); it imports
pandera without pandas (``import_pandera_polars_only``), which is faster (docs/benchmarks.md). Where no interpreter
can be started for it (``sys.executable`` unknown, as in some embedded interpreters, or a frozen application),
``start`` returns None and the run validates the tables itself, as before.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib
import importlib.abc
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from adjudicator.errors import InternalError, RulesError
from adjudicator.rules.tables import DEFAULT_RULES_DIR

#: how long the run waits for the helper at the end, at most (far more than it needs: docs/benchmarks.md)
WAIT_SECONDS = 300

#: the helper's program (``python -I -c``); its first argument is the folder holding this package, its second
#: the run's import path (JSON) less the working folder: ``-I`` drops the working folder, PYTHONPATH and the
#: user's site-packages, so the folders the run itself imports from are handed over explicitly
_HELPER = (
    "import sys, json; home = sys.argv.pop(1); path = json.loads(sys.argv.pop(1)); "
    "sys.path[:] = [home, *(p for p in path if p != home), *(p for p in sys.path if p not in path and p != home)]; "
    "from adjudicator.rules.check import main; raise SystemExit(main())"
)


def import_path(cwd: str | None = None) -> list[str]:
    """This process's import path as the helper gets it: absolute folders only, the working folder left out
    (a relative entry, ``''`` included, is the working folder or a folder in it). A stray ``argparse.py`` or
    ``json.py`` where ``adjudicate`` is run is then never imported by the helper."""
    here = os.path.realpath(cwd if cwd is not None else os.getcwd())
    return [p for p in sys.path if os.path.isabs(p) and os.path.realpath(p) != here]


class RulesCheck:
    """A helper process validating the rule tables a run loaded unvalidated; see the module docstring."""

    def __init__(self, process: subprocess.Popen[str], where: str) -> None:
        self._process = process
        self._where = where
        self._outcome: dict[str, object] | None = None

    @classmethod
    def start(cls, rules_dir: Path | None, *, plans: Path | None, as_of: dt.date | None) -> RulesCheck | None:
        if not sys.executable or getattr(sys, "frozen", False):  # no interpreter to run ``-c`` with
            return None
        # the helper imports this very copy of the package, wherever it came from (an install, a checkout, a
        # folder a notebook put on sys.path): its folder goes first on the helper's path unless already there
        home = str(Path(__file__).resolve().parents[2])
        # isolated (-I): the working folder is not on the helper's import path, nor are PYTHON* variables read
        command = [sys.executable, "-I", "-c", _HELPER, home, json.dumps(import_path())]
        if rules_dir is not None:
            command += ["--rules", str(rules_dir)]
        if plans is not None:
            command += ["--plans", str(plans)]
        if as_of is not None:
            command += ["--as-of", as_of.isoformat()]
        try:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        except OSError:
            return None
        return cls(process, str(rules_dir if rules_dir is not None else DEFAULT_RULES_DIR))

    def _finish(self, timeout: float | None) -> dict[str, object]:
        if self._outcome is None:
            try:
                out, err = self._process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.close()
                late = f"the rule tables' check did not finish in {timeout:.0f} s"
                raise InternalError(late, path=self._where) from None
            try:
                outcome = json.loads(out.strip().splitlines()[-1])
                if not isinstance(outcome, dict):
                    raise ValueError(outcome)
            except (ValueError, IndexError):
                # the helper itself failed (killed, an import error): a fault of the machine or a bug, not the tables
                last = err.strip().splitlines()[-1] if err.strip() else f"exit status {self._process.returncode}"
                outcome = {"crash": f"the rule tables' check failed: {last}"}
            self._outcome = outcome
        return self._outcome

    def _raise(self, outcome: dict[str, object]) -> None:
        """The tables' ``RulesError`` (exit 2), or ``InternalError`` (exit 3) when the helper itself failed."""
        if "error" in outcome:
            raise _rules_error(outcome["error"])
        if "crash" in outcome:
            raise InternalError(str(outcome["crash"]), path=self._where)

    def failed(self) -> None:
        """Raise what the helper found if it has finished and failed (``_raise``); never waits."""
        if self._outcome is None and self._process.poll() is None:
            return
        self._raise(self._finish(None))

    def wait(self, checksums: dict[str, str]) -> None:
        """Wait for the helper; raise what it found (``_raise``), or ``RulesError`` if it checked other bytes
        than ``checksums``."""
        outcome = self._finish(WAIT_SECONDS)
        self._raise(outcome)
        checked = outcome.get("checksums")
        if checked != checksums:
            changed = sorted(
                name
                for name in {*checksums, *(checked if isinstance(checked, dict) else {})}
                if not isinstance(checked, dict) or checked.get(name) != checksums.get(name)
            )
            raise RulesError(f"rule tables {changed} changed while the run was loading them", path=self._where)

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        """Within: an exception is replaced by the helper's ``RulesError`` when the tables fail their check (the
        error the run would have met first, before the unchecked tables could cause it); the helper is
        stopped on any exception, an interruption included."""
        try:
            yield
        except Exception:
            with contextlib.suppress(InternalError):
                self._finish(WAIT_SECONDS)
            self.close()
            if self._outcome is not None and "error" in self._outcome:
                raise _rules_error(self._outcome["error"]) from None
            raise
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop the helper if it still runs (an interrupted or failed run)."""
        if self._process.poll() is None:
            self._process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired, ValueError, OSError):
            self._process.communicate(timeout=10)


def _error_fields(exc: RulesError) -> dict[str, object]:
    """A ``RulesError`` as the helper reports it (JSON): its fields, from which ``_rules_error`` rebuilds it."""
    return {"problem": exc.problem, "path": exc.path, "table": exc.table, "line": exc.line, "check": exc.check}


def _rules_error(fields: object) -> RulesError:
    """The ``RulesError`` the helper reported (``_error_fields``), field for field."""
    if not isinstance(fields, dict):
        raise InternalError(f"the rule tables' check reported {fields!r}, not an error's fields")
    return RulesError(
        str(fields["problem"]),
        path=fields.get("path"),
        table=fields.get("table"),
        line=fields.get("line"),
        check=fields.get("check"),
    )


class _PolarsOnly(importlib.abc.MetaPathFinder):
    """Answers "no module named ..." for what pandera imports only for pandas frames and data synthesis."""

    NOT_NEEDED = ("pandas", "hypothesis")

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name.partition(".")[0] in self.NOT_NEEDED:
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)
        return None


def import_pandera_polars_only() -> None:
    """Import pandera as an install without pandas would (its polars API is whole there): it saves much of the
    helper's time (docs/benchmarks.md). The helper only validates polars frames, then exits, so hiding pandas for
    its life harms nothing. Should a pandera release need pandas for its polars API, pandera is imported whole
    instead."""
    finder = _PolarsOnly()
    sys.meta_path.insert(0, finder)
    try:
        importlib.import_module("pandera.polars")
    except ImportError:
        sys.meta_path.remove(finder)
        for name in [n for n in sys.modules if n == "pandera" or n.startswith("pandera.")]:
            del sys.modules[name]
        importlib.import_module("pandera.polars")


def main(argv: Sequence[str] | None = None) -> int:
    """The helper: load the rule tables with their schemas; print one JSON line (checksums, or the error)."""
    parser = argparse.ArgumentParser(prog="python -m adjudicator.rules.check")
    parser.add_argument("--rules", type=Path, default=None)
    parser.add_argument("--plans", type=Path, default=None)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None)
    args = parser.parse_args(argv)
    import_pandera_polars_only()
    from adjudicator.rules.tables import load_rules

    try:
        rules = load_rules(args.rules, plans=args.plans, as_of=args.as_of)
    except RulesError as exc:
        print(json.dumps({"error": _error_fields(exc)}))
        return 0
    print(json.dumps({"checksums": rules.checksums}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
