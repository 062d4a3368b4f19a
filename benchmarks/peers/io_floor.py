"""The I/O floor: polars streams the input to Parquet unchanged (scan then sink), nothing else.

CSV is scanned with every column as String: the cheapest faithful read of a
file whose values the engine must validate itself, so no contender can beat
it by skipping type inference. It runs with the adjudicator's reader settings
(``adjudicator.embedded.tuning``), which keep its memory flat as well.
"""

from __future__ import annotations

import sys

from adjudicator.embedded.tuning import tune_reader

# the same reader settings as the adjudicator, applied as its command line applies them: before polars is
# imported (some are read once, at import)
tune_reader()

import polars as pl  # noqa: E402

from benchmarks.peers import input_format, parse_args  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__.splitlines()[0], argv)
    if input_format(args.input) == "parquet":
        frame = pl.scan_parquet(args.input)
    else:
        frame = pl.scan_csv(args.input, infer_schema=False)
    frame.sink_parquet(args.outdir / "results.parquet")
    return 0


if __name__ == "__main__":
    sys.exit(main())
