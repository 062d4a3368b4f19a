"""The run's log (``adjudicator.embedded.events``): JSON event lines, progress with percentage and ETA, phases,
warnings, the run id's check, and progress lines off a terminal written by the timer thread."""

from __future__ import annotations

import datetime as dt
import io
import json
import time

import pytest

from adjudicator.embedded.events import Meter, RunLog, check_run_id, format_event, format_progress
from adjudicator.errors import UsageError


class _Stream(io.StringIO):
    """stderr as a test sees it: says whether it is a terminal, keeps what is written."""

    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


class _Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _events(stream: _Stream) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_an_event_is_one_json_line_with_time_run_id_and_event_first_and_no_null_field() -> None:
    at = dt.datetime(2024, 5, 1, 2, 3, 4, 5000, tzinfo=dt.UTC)
    line = format_event("phase_end", "r1", {"phase": "prepass", "ok": False, "total": None}, at=at)
    assert "\n" not in line
    assert list(json.loads(line).items()) == [
        ("ts", "2024-05-01T02:03:04.005+00:00"),
        ("run_id", "r1"),
        ("event", "phase_end"),
        ("phase", "prepass"),
        ("ok", False),
    ]


@pytest.mark.parametrize(
    ("total", "done", "elapsed", "text", "percent", "eta"),
    [
        (200, 50, 10.0, "adjudicating: 25% (50 of 200 lines), 10s elapsed, ETA 30s", 25.0, 30.0),
        (200, 0, 10.0, "adjudicating: 0% (0 of 200 lines), 10s elapsed, ETA unknown", 0.0, None),
        (200, 200, 75.0, "adjudicating: 100% (200 of 200 lines), 1m15s elapsed, ETA 0s", 100.0, 0.0),
        (None, 0, 4.0, "adjudicating: working, 4s elapsed, ETA unknown", None, None),
        (None, 7, 4.0, "adjudicating: 7 lines, 4s elapsed, ETA unknown", None, None),
    ],
)
def test_progress_has_the_percentage_and_an_eta_at_the_pace_so_far(
    total: int | None, done: int, elapsed: float, text: str, percent: float | None, eta: float | None
) -> None:
    meter = Meter("adjudicating", total, "lines", started=0.0, done=done)
    assert format_progress(meter, elapsed) == text
    fields = meter.fields(elapsed)
    assert (fields["percent"], fields["eta_s"], fields["elapsed_s"]) == (percent, eta, elapsed)


def test_json_phases_give_a_start_and_an_end_event_with_counts_and_the_run_id() -> None:
    stream, clock = _Stream(tty=False), _Clock()
    with RunLog(log_format="json", run_id="night-1", stream=stream, clock=clock, progress=False) as log:
        with log.phase("adjudicating", total=10) as meter:
            meter.update(10)
            clock.now += 2.5
        log.summary({"read": 10})
    events = _events(stream)
    assert [e["event"] for e in events] == ["phase_start", "phase_end", "summary"]
    assert {e["run_id"] for e in events} == {"night-1"}
    assert events[1] == {**events[1], "phase": "adjudicating", "ok": True, "done": 10, "total": 10, "elapsed_s": 2.5}
    assert events[2]["read"] == 10


def test_a_phase_that_raises_ends_with_ok_false() -> None:
    stream = _Stream(tty=False)
    log = RunLog(log_format="json", stream=stream, progress=False)
    with pytest.raises(ValueError, match="boom"), log.phase("prepass"):
        raise ValueError("boom")
    assert _events(stream)[-1]["ok"] is False


def test_text_logs_print_warnings_but_no_phase_events() -> None:
    stream = _Stream(tty=False)
    log = RunLog(stream=stream, progress=False)
    with log.phase("prepass"):
        log.warning("no_results", "no line adjudicated")
    log.summary({"read": 0})
    assert stream.getvalue() == "adjudicate: warning: no line adjudicated\n"
    assert log.warnings == [{"code": "no_results", "message": "no line adjudicated"}]


def test_json_warnings_are_warning_events() -> None:
    stream = _Stream(tty=False)
    RunLog(log_format="json", stream=stream).warning("all_rejected", "every line rejected", rejects=3)
    (event,) = _events(stream)
    assert (event["event"], event["code"], event["message"], event["rejects"]) == (
        "warning",
        "all_rejected",
        "every line rejected",
        3,
    )


@pytest.mark.parametrize(("log_format", "tty"), [("text", False), ("text", True), ("json", False), ("json", True)])
def test_progress_goes_where_the_format_and_the_terminal_say(log_format: str, tty: bool) -> None:
    stream, clock = _Stream(tty=tty), _Clock()
    log = RunLog(log_format=log_format, stream=stream, clock=clock, after_s=3.0)
    log._stop.set()  # no timer thread: the test calls show_progress itself
    with log.phase("adjudicating", total=4) as meter:
        meter.update(1)
        clock.now += 1.0
        log.show_progress()
        early = stream.getvalue()
        clock.now += 5.0
        log.show_progress()
    written = stream.getvalue()
    if log_format == "json":
        progress = [e for e in _events(stream) if e["event"] == "progress"]
        assert [p["percent"] for p in progress] == [25.0, 25.0]
    elif tty:
        assert "25%" not in early  # a terminal waits ``after_s`` before showing anything
        assert written == "\radjudicating: 25% (1 of 4 lines), 6s elapsed, ETA 18s \n"
    else:
        assert written.splitlines() == [
            "adjudicate: adjudicating: 25% (1 of 4 lines), 1s elapsed, ETA 3s",
            "adjudicate: adjudicating: 25% (1 of 4 lines), 6s elapsed, ETA 18s",
        ]


def test_off_a_terminal_the_timer_writes_a_progress_line_every_period_while_a_phase_runs() -> None:
    stream = _Stream(tty=False)
    with RunLog(stream=stream, every_s=0.02) as log, log.phase("prepass", total=2, unit="steps") as meter:
        meter.advance()
        deadline = time.monotonic() + 5
        while stream.getvalue().count("\n") < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 2 and all(line.startswith("adjudicate: prepass: 50% (1 of 2 steps)") for line in lines)


def test_quiet_text_logs_start_no_timer() -> None:
    stream = _Stream(tty=False)
    with RunLog(stream=stream, every_s=0.01, progress=False) as log, log.phase("prepass"):
        time.sleep(0.05)
        assert log._timer is None
    assert stream.getvalue() == ""


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("nightly-2024-05-01", True),
        ("manual__2024-05-01T02.00.00", True),
        ("a", True),
        ("x" * 128, True),
        ("x" * 129, False),
        ("", False),
        ("-leading-dash", False),
        (".hidden", False),
        ("a/b", False),
        ("../up", False),
        ("with space", False),
        ("tab\there", False),
        ("scheduled__2024-05-01T02:00:00+00:00", False),
    ],
)
def test_a_run_id_is_safe_characters_only(text: str, ok: bool) -> None:
    if ok:
        assert check_run_id(text) == text
    else:
        with pytest.raises(UsageError, match="--run-id"):
            check_run_id(text)


def test_an_unknown_log_format_names_the_parameter() -> None:
    with pytest.raises(ValueError, match="'log_format' must be one of"):
        RunLog(log_format="xml")


def test_a_terminal_line_rewritten_shorter_leaves_no_tail_of_the_longer_one() -> None:
    stream, clock = _Stream(tty=True), _Clock()
    log = RunLog(stream=stream, clock=clock, after_s=0.0)
    log._stop.set()
    with log.phase("adjudicating", total=1_000_000) as meter:
        meter.update(999_999)
        clock.now += 100.0
        log.show_progress()
        first = stream.getvalue()
        meter.update(1_000_000)
        clock.now = meter.started + 1.0
        log.show_progress()
    second = stream.getvalue()[len(first) :].removesuffix("\n")
    assert second.startswith("\radjudicating: 100%") and len(second) == len(first)


def test_a_polled_meter_counts_its_pace_from_when_its_total_last_changed() -> None:
    """Work counted elsewhere (Spark's tasks, stage after stage): the ETA is the running stage's."""
    polled = iter([(0, 10), (5, 10), (0, None), (1, 4)])
    meter = Meter("adjudicating", unit="tasks", started=0.0, poll=lambda: next(polled))
    meter.refresh(100.0)  # a stage of 10 tasks starts at 100 s
    meter.refresh(110.0)
    assert (meter.fields(110.0)["percent"], meter.eta_s(110.0)) == (50.0, 10.0)
    meter.refresh(120.0)  # between stages
    assert meter.fields(120.0)["percent"] is None and meter.eta_s(120.0) is None
    meter.refresh(130.0)  # a stage of 4 tasks
    assert meter.eta_s(133.0) == 9.0
    assert meter.fields(133.0)["elapsed_s"] == 133.0  # the phase's own time
