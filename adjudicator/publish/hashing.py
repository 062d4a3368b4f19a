"""The inputs' checksums, computed on a thread while the run reads them."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

from adjudicator.rules.tables import sha256


def checksums_in_background(paths: list[str]) -> tuple[ThreadPoolExecutor, dict[str, Future[str]]]:
    """Hash the inputs on a thread while polars reads them (hashlib releases the GIL on big blocks)."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")
    return pool, {p: pool.submit(sha256, p) for p in paths}


__all__ = ["checksums_in_background"]
