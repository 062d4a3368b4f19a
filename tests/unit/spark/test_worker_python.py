"""Which interpreter Spark's Python workers run when the command line starts a session, and the one line a
worker that cannot import the package gives (``adjudicator.spark.run``); no Spark is started here."""

from __future__ import annotations

import sys

import pytest

pytest.importorskip("pyspark", reason="adjudicator.spark needs the 'spark' extra: pip install -e '.[spark]'")

from adjudicator.errors import EXIT_BAD_INPUT, AdjudicatorError  # noqa: E402
from adjudicator.spark.run import raise_worker_error, worker_python  # noqa: E402

HERE = sys.executable


@pytest.mark.parametrize(
    ("master", "environ", "expected"),
    [
        ("local[2]", {}, HERE),
        ("local", {}, HERE),
        ("spark://head:7077", {}, HERE),
        (None, {}, HERE),
        # the user's choice wins
        ("local[2]", {"PYSPARK_PYTHON": "/opt/py/bin/python"}, None),
        ("spark://head:7077", {"PYSPARK_PYTHON": "/opt/py/bin/python"}, None),
        # the nodes of YARN and Kubernetes have their own Python; spark-submit brings its own settings
        ("yarn", {}, None),
        ("k8s://https://api:6443", {}, None),
        (None, {"PYSPARK_GATEWAY_PORT": "41234"}, None),
    ],
)
def test_workers_run_this_interpreter_on_local_and_standalone_masters(
    master: str | None, environ: dict[str, str], expected: str | None
) -> None:
    assert worker_python(master, environ) == expected


WORKER_TRACE = """py4j.protocol.Py4JJavaError: An error occurred while calling o93.count.
org.apache.spark.api.python.PythonException: Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/pyspark/serializers.py", line 193, in _read_with_length
    return self.loads(obj)
ModuleNotFoundError: No module named 'adjudicator'
"""


@pytest.mark.parametrize(
    ("trace", "says"),
    [
        (WORKER_TRACE, "Spark's Python workers cannot import the adjudicator package"),
        (WORKER_TRACE.replace("'adjudicator'", "'adjudicator.spark'"), "cannot import the adjudicator package"),
        (
            'java.io.IOException: Cannot run program "/home/etl/venv/bin/python": error=2, No such file or directory',
            "interpreter /home/etl/venv/bin/python",
        ),
    ],
)
def test_a_worker_without_the_package_is_one_line_saying_how_to_fix_it(trace: str, says: str) -> None:
    with pytest.raises(AdjudicatorError) as raised:
        raise_worker_error(RuntimeError(trace))
    message = str(raised.value)
    assert says in message and "\n" not in message
    assert "install claims-adjudicator on every node" in message and "PYSPARK_PYTHON" in message
    assert raised.value.exit_code == EXIT_BAD_INPUT


@pytest.mark.parametrize(
    "trace",
    ["ModuleNotFoundError: No module named 'adjudicatorx'", "ValueError: something else", "No module named 'polars'"],
)
def test_other_worker_errors_go_on_as_they_are(trace: str) -> None:
    raise_worker_error(RuntimeError(trace))  # no raise
