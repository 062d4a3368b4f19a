"""Benchmark suite of the adjudicator: data generator, peer implementations and the runner."""
