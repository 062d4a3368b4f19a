"""The stage ledger: CPU seconds of each stage of an embedded run, measured one after another in one process.

Run it pinned to one core so that CPU seconds are a line's cost and not the
machine's load::

    taskset -c 0 env POLARS_MAX_THREADS=1 python -m benchmarks.stages INPUT

Stages (CPU seconds of the whole process, ``time.process_time``):

- ``prepare``: rules compiled, inputs resolved and scanned (plan only);
- ``prepass``: the batch-wide facts (``embedded.prepass.find_facts``);
- ``read``: the batches read and nothing else;
- ``checks``: the typed columns and the row checks of every batch (``engine.batch.check_lines``);
- ``batch_rest``: the rest of the batch function (verdicts, outputs, tallies, partials);
- ``arrow``: the results' Arrow table (``BatchOutput.results_table``);
- ``write``: both Parquet files encoded and written (to a scratch folder);
- ``totals``: each batch added to the run's totals, then the summary.

``read`` is measured on its own, then subtracted: ``checks`` and
``batch_rest`` are each taken over a fresh read of the batches. Text inputs
are staged first, outside the ledger (``stage``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq


def _cpu() -> float:
    return time.process_time()


def ledger(input_path: Path, batch_size: int) -> dict[str, float]:
    from adjudicator.embedded.driver import batches
    from adjudicator.embedded.prepass import find_facts
    from adjudicator.embedded.sinks import COMPRESSION, arrow
    from adjudicator.embedded.staging import stage_text_inputs, staged_rows
    from adjudicator.embedded.tuning import tune_reader
    from adjudicator.engine.batch import adjudicate_batch, check_lines
    from adjudicator.engine.totals import Totals
    from adjudicator.options import RunOptions
    from adjudicator.readers.inputs import read_inputs
    from adjudicator.rules.compiled import compile_rules
    from adjudicator.rules.tables import load_rules

    costs: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="stages-") as folder:
        scratch = Path(folder)
        t = _cpu()
        tune_reader()
        options = RunOptions(inputs=(str(input_path),), out=scratch / "out")
        rules = load_rules(options.rules_dir, plans=options.plans, as_of=options.rules_as_of, validate=False)
        compiled = compile_rules(rules)
        inputs = read_inputs(options, rules)
        paths, supersede = inputs.paths, inputs.supersede
        costs["prepare"] = _cpu() - t
        t = _cpu()
        raw = stage_text_inputs(inputs.raw, paths, scratch, parts=inputs.parts)
        lines = staged_rows(raw, paths)
        costs["stage"] = _cpu() - t
        t = _cpu()
        facts = find_facts(
            raw, compiled, supersede=supersede, spill_dir=scratch, expected_rows=lines, settings=options.settings
        )
        costs["prepass"] = _cpu() - t

        t = _cpu()
        for _ in batches(raw, batch_size):
            pass
        costs["read"] = _cpu() - t

        t = _cpu()
        for frame in batches(raw, batch_size):
            check_lines(frame.lazy(), facts).collect()
        costs["checks"] = _cpu() - t - costs["read"]

        empty = adjudicate_batch(raw.head(0).collect(), facts, compiled, "run")
        results = pq.ParquetWriter(scratch / "results.parquet", empty.results_table().schema, compression=COMPRESSION)
        rejects = pq.ParquetWriter(scratch / "rejects.parquet", arrow(empty.rejects).schema, compression=COMPRESSION)
        totals = Totals()
        for key in ("batch", "arrow", "write", "totals"):
            costs[key] = 0.0
        t_all = _cpu()
        for frame in batches(raw, batch_size):
            t = _cpu()
            out = adjudicate_batch(frame, facts, compiled, "run")
            t1 = _cpu()
            table = out.results_table()
            t2 = _cpu()
            results.write_table(table, row_group_size=max(table.num_rows, 1))
            if out.rejects.height:
                rejects.write_table(arrow(out.rejects), row_group_size=out.rejects.height)
            t3 = _cpu()
            totals.add(out.counted())
            t4 = _cpu()
            costs["batch"] += t1 - t
            costs["arrow"] += t2 - t1
            costs["write"] += t3 - t2
            costs["totals"] += t4 - t3
        results.close()
        rejects.close()
        t = _cpu()
        totals.summary()
        costs["totals"] += _cpu() - t
        costs["batch_rest"] = costs.pop("batch") - costs["checks"]
        costs["loop_overhead"] = (
            _cpu() - t_all - costs["read"] - sum(costs[k] for k in ("checks", "batch_rest", "arrow", "write", "totals"))
        )
    costs["total"] = sum(costs.values())
    return {k: round(v, 2) for k, v in costs.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path)
    parser.add_argument("--batch-size", type=int, default=100_000)
    args = parser.parse_args(argv)
    sys.stdout.write(json.dumps(ledger(args.input, args.batch_size)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
