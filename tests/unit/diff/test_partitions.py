"""How many spill partitions the diff uses: more with the runs' size, within bounds."""

from __future__ import annotations

import pytest

from adjudicator.embedded.spill import MAX_PARTITIONS, partitions_for
from adjudicator.options import EngineSettings

#: the diff's default rows per spill partition (``EngineSettings.diff_rows_per_partition``)
PER_PARTITION = 500_000


@pytest.mark.parametrize(
    ("rows", "partitions"), [(0, 1), (1, 1), (PER_PARTITION, 1), (PER_PARTITION + 1, 2), (10**12, 1024)]
)
def test_partitions_grow_with_the_runs_within_bounds(rows: int, partitions: int) -> None:
    assert EngineSettings().diff_rows_per_partition == PER_PARTITION
    assert MAX_PARTITIONS == 1024
    assert partitions_for(rows, PER_PARTITION) == partitions
