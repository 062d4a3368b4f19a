"""A Spark phase's progress (``spark.run.running_tasks``, polled by the run log's timer thread): the tasks done of
the stages running, so a line shows its percentage as soon as Spark knows a stage's task count."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

from adjudicator.embedded.events import RunLog
from adjudicator.spark.run import running_tasks


@dataclass
class _Stage:
    numTasks: int  # noqa: N815 - pyspark's SparkStageInfo names
    numCompletedTasks: int  # noqa: N815


@dataclass
class _Tracker:
    """Spark's status tracker as a test drives it: the stages active now."""

    stages: dict[int, _Stage] = field(default_factory=dict)

    def getActiveStageIds(self) -> list[int]:  # noqa: N802 - pyspark's name
        return list(self.stages)

    def getStageInfo(self, stage_id: int) -> _Stage | None:  # noqa: N802
        return self.stages.get(stage_id)


class _Spark:
    def __init__(self, tracker: _Tracker) -> None:
        self.sparkContext = self
        self.tracker = tracker

    def statusTracker(self) -> _Tracker:  # noqa: N802
        return self.tracker


def _progress(log: RunLog, stream: io.StringIO) -> dict[str, Any]:
    log.show_progress()
    return json.loads(stream.getvalue().splitlines()[-1])


def test_the_tasks_of_the_stages_running_give_the_percentage_once_their_count_is_known() -> None:
    tracker = _Tracker()
    spark: Any = _Spark(tracker)
    assert running_tasks(spark) == (0, None)  # no stage yet: no total
    tracker.stages = {3: _Stage(numTasks=8, numCompletedTasks=2), 4: _Stage(numTasks=2, numCompletedTasks=1)}
    assert running_tasks(spark) == (3, 10)

    stream = io.StringIO()
    log = RunLog(log_format="json", stream=stream, progress=False)
    with log.phase("adjudicating", total=None, unit="tasks") as meter:
        meter.poll = lambda: running_tasks(spark)
        event = _progress(log, stream)
        assert (event["phase"], event["done"], event["total"], event["percent"]) == ("adjudicating", 3, 10, 30.0)
        tracker.stages = {}  # between two stages: elapsed time only
        assert "percent" not in _progress(log, stream)
        tracker.stages = {5: _Stage(numTasks=4, numCompletedTasks=4)}
    end = json.loads(stream.getvalue().splitlines()[-1])
    assert (end["event"], end["done"], end["total"]) == ("phase_end", 4, 4)
