"""The built package runs where payers run it: the wheel holds the rule tables, installs in a fresh virtual
environment, and its ``adjudicate`` command adjudicates the sample from another folder, with no checkout on its
path, to the golden counts."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from adjudicator.about import DISTRIBUTION, __version__
from tests.helpers import GOLDEN_DIR, ROOT, SAMPLE

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

#: what a wheel is built from (the rest of the repository is not packaged)
PACKAGED = ("pyproject.toml", "README.md", "adjudicator", "rules")
TABLES = sorted(p.name for p in (ROOT / "rules").glob("*.csv"))


def _can_build_here() -> bool:
    """Whether this environment's setuptools builds wheels itself (no download of a build environment)."""
    if importlib.util.find_spec("setuptools") is None:
        return False
    if importlib.util.find_spec("wheel") is not None:
        return True
    import setuptools

    return tuple(int(p) for p in setuptools.__version__.split(".")[:2]) >= (70, 1)


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{command}: {done.stdout}\n{done.stderr}"
    return done


def test_the_wheel_installs_and_runs_the_sample_from_another_folder(tmp_path: Path) -> None:
    # no checkout on the path: the installed package alone must do
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    source = tmp_path / "source"
    source.mkdir()
    for name in PACKAGED:
        if (ROOT / name).is_dir():
            # the package's rules/shipped is a link to rules/: copied as a link, it points into the copy
            shutil.copytree(ROOT / name, source / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, source / name)
    dist = tmp_path / "dist"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(source)]
    _run([*build, "--no-build-isolation"] if _can_build_here() else build, tmp_path, env)

    (wheel,) = dist.glob("*.whl")
    assert wheel.name.startswith(f"{DISTRIBUTION.replace('-', '_')}-{__version__}-")
    with zipfile.ZipFile(wheel) as packed:
        shipped = sorted(Path(n).name for n in packed.namelist() if n.startswith("adjudicator/rules/shipped/"))
    assert shipped == TABLES

    venv = tmp_path / "venv"
    # the dependencies (polars, pyarrow, ...) come from this environment; the package only from the wheel
    _run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], tmp_path, env)
    python = venv / "bin" / "python"
    if sys.prefix != sys.base_prefix:
        # run from a virtual environment (CI's): its packages are not the system's; a .pth puts them after the new
        # environment's own (a .pth there, such as an editable install of the checkout, is not read)
        paths = {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}
        purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path, env)
        (Path(purelib.stdout.strip()) / "parent_environment.pth").write_text("".join(f"{p}\n" for p in paths))
    _run([str(python), "-m", "pip", "install", "--no-deps", "--quiet", str(wheel)], tmp_path, env)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(SAMPLE, elsewhere / "claims.csv")
    found = _run([str(python), "-c", "import adjudicator; print(adjudicator.__file__)"], elsewhere, env).stdout
    assert Path(found.strip()).is_relative_to(venv)

    adjudicate = venv / "bin" / "adjudicate"
    version = _run([str(adjudicate), "--version"], elsewhere, env).stdout.strip()
    assert version == f"adjudicate {__version__} ({DISTRIBUTION})"
    # run by its path, as cron and Airflow do, without activating the environment
    _run([str(adjudicate), "run", "claims.csv", "--out", "out", "--quiet"], elsewhere, env)

    manifest = json.loads((elsewhere / "out" / "manifest.json").read_text())
    assert manifest["versions"]["adjudicator"] == __version__
    golden = json.loads((GOLDEN_DIR / "sample_counts.json").read_text())
    assert manifest["counts"] == golden
    for table in manifest["rules"].values():
        assert Path(table["path"]).is_relative_to(venv.resolve())
