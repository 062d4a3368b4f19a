"""An interpreter that cannot import the package, as on a Spark node where it is not installed: this one, wrapped
with a ``sitecustomize`` that refuses ``adjudicator``."""

from __future__ import annotations

import sys
from pathlib import Path

#: refuses every import of the package
BLOCKER = """\
import sys


class _NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name == "adjudicator" or name.startswith("adjudicator."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _NotInstalled())
"""


def python_without_the_package(folder: Path, names: tuple[str, ...] = ("python",)) -> Path:
    """Wrappers of this interpreter named ``names`` in ``folder / 'bin'`` that cannot import the package (a
    ``PYTHONPATH`` already set is kept after the blocker); returns the first."""
    blocker = folder / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(BLOCKER)
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    script = f'#!/bin/sh\nPYTHONPATH="{blocker}${{PYTHONPATH:+:$PYTHONPATH}}" exec "{sys.executable}" "$@"\n'
    for name in names:
        wrapper = bin_dir / name
        wrapper.write_text(script)
        wrapper.chmod(0o755)
    return bin_dir / names[0]
