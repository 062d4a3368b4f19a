"""The tests' local Spark session: ``local[2]``, no UI, few shuffle partitions (the inputs are small), quiet logs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def local_session(**config: str) -> Iterator[Any]:
    """A ``local[2]`` session with ``config`` on top of the tests' defaults, stopped when the block ends."""
    from pyspark.sql import SparkSession

    from adjudicator.spark.run import quiet_pandas_warning

    quiet_pandas_warning()
    builder = (
        SparkSession.builder.master("local[2]")
        .appName("adjudicator-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "3")
    )
    for key, value in config.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
