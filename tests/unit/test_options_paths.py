"""``RunOptions`` and ``Slice`` take a path as ``str`` or ``Path``, one input as well as a sequence, a ``file://``
URI as its path, and refuse any other URI naming it (``options.local_path``): never a local folder named after
the scheme."""

from __future__ import annotations

from pathlib import Path

import pytest

from adjudicator.errors import EXIT_BAD_INPUT, UsageError
from adjudicator.options import RunOptions, Slice, local_path


@pytest.mark.parametrize(
    ("given", "inputs"),
    [
        ("claims.csv", ("claims.csv",)),
        (Path("claims.csv"), ("claims.csv",)),
        ("extracts/*.parquet", ("extracts/*.parquet",)),
        (["a.csv", Path("b.csv")], ("a.csv", "b.csv")),
        (("a.csv",), ("a.csv",)),
        ((p for p in ["a.csv", "b.csv"]), ("a.csv", "b.csv")),
        ("file:///data/claims%201.csv", ("/data/claims 1.csv",)),
        ("file://localhost/data/claims.csv", ("/data/claims.csv",)),
    ],
)
def test_inputs_are_one_path_or_many_as_text(given: object, inputs: tuple[str, ...]) -> None:
    assert RunOptions(inputs=given, out=Path("out")).inputs == inputs  # type: ignore[arg-type]


def test_every_path_option_takes_str_or_path_and_keeps_a_path() -> None:
    options = RunOptions(
        inputs="claims.csv",  # type: ignore[arg-type]
        out="out/run",  # type: ignore[arg-type]
        rules_dir="my-rules",  # type: ignore[arg-type]
        plans="file:///etc/plans.csv",  # type: ignore[arg-type]
        slice=Slice(claims_file="ids.txt", payers="ACME"),  # type: ignore[arg-type]
    )
    assert options.out == Path("out/run") and isinstance(options.out, Path)
    assert options.rules_dir == Path("my-rules") and options.plans == Path("/etc/plans.csv")
    assert options.slice.claims_file == Path("ids.txt")
    # one payer is one payer, not its letters
    assert options.slice.payers == ("ACME",)
    assert options.as_json()["out"] == "out/run"


URIS = ["s3://bucket/claims/", "abfss://lake@acct.dfs.core.windows.net/claims", "gs://bucket/x.parquet", "hdfs://nn/x"]


@pytest.mark.parametrize("uri", URIS)
@pytest.mark.parametrize(
    ("field", "named"),
    [
        ("inputs", "input"),
        ("out", "--out"),
        ("rules_dir", "--rules"),
        ("plans", "--plans"),
    ],
)
def test_a_uri_is_refused_naming_the_option_and_the_uri(uri: str, field: str, named: str) -> None:
    given: dict[str, object] = {"inputs": ("claims.csv",), "out": "out", field: uri}
    with pytest.raises(UsageError) as raised:
        RunOptions(**given)  # type: ignore[arg-type]
    scheme = uri.split(":", 1)[0]
    assert str(raised.value).startswith(f"{named} {uri}: {scheme}:// is not supported")
    assert raised.value.exit_code == EXIT_BAD_INPUT


def test_a_uri_folded_by_pathlib_is_still_a_uri_and_shown_as_typed() -> None:
    # Path("s3://bucket/out") is Path("s3:/bucket/out"): still refused, not a folder 's3:'
    with pytest.raises(UsageError, match=r"^--out s3://bucket/out: s3:// is not supported"):
        RunOptions(inputs=("claims.csv",), out=Path("s3://bucket/out"))
    with pytest.raises(UsageError, match=r"^--claims gs://b/ids.txt: gs://"):
        Slice(claims_file=Path("gs://b/ids.txt"))


@pytest.mark.parametrize(
    ("given", "local"),
    [
        ("out", "out"),
        ("C:/data/out", "C:/data/out"),  # a drive letter is not a scheme
        ("./s3_backup", "./s3_backup"),
        ("name:with-colon", "name:with-colon"),
        ("file:///tmp/x", "/tmp/x"),
    ],
)
def test_local_paths_stay_local(given: str, local: str) -> None:
    assert local_path(given, "--out") == local


def test_a_file_uri_naming_another_host_is_refused() -> None:
    with pytest.raises(UsageError, match="file:///absolute/path"):
        local_path("file://fileserver/share/claims.csv", "input")
