"""A committed benchmark result names no folder of the machine it ran on: paths in the repository are relative to
it, paths in the data folder relative to the data folder's parent."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.run import REPO_ROOT, portable_paths, write_json


def test_results_name_no_absolute_folder_of_the_machine(tmp_path: Path) -> None:
    data_dir = tmp_path / "bench_data"
    payload = {
        "rules": str(REPO_ROOT / "rules"),
        "log": str(data_dir / "logs" / "run_0.log"),
        "command": ["python", "-m", "benchmarks.run", "--data-dir", str(data_dir)],
        "elsewhere": "/opt/other/file",
    }
    out = tmp_path / "results" / "latest.json"
    write_json(payload, [out], data_dir=data_dir)
    written = json.loads(out.read_text())
    assert written["rules"] == "rules"
    assert written["log"] == "bench_data/logs/run_0.log"
    assert written["command"][-1] == "bench_data"
    assert written["elsewhere"] == "/opt/other/file"  # only the two known prefixes are taken out
    assert str(tmp_path) not in out.read_text()


def test_without_a_data_folder_only_the_repository_is_made_relative() -> None:
    text = json.dumps({"a": str(REPO_ROOT / "benchmarks" / "run.py"), "b": "/srv/data/x"})
    assert json.loads(portable_paths(text, None)) == {"a": "benchmarks/run.py", "b": "/srv/data/x"}
