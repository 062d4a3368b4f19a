"""The diff's partitioned path alone (the aligned path switched off), as the benchmark's ``diff_partitioned``.

Usage: python -m benchmarks.diff_partitioned OLD_OUT NEW_OUT DIFF_OUT
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from adjudicator.diff.runs import diff_runs

    old, new, out = (Path(a) for a in (argv if argv is not None else sys.argv[1:]))
    summary = diff_runs(old, new, out, overwrite=True, aligned=False)
    print(f"changed {summary['totals']['changed']:,} of {summary['totals']['lines_compared']:,} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
