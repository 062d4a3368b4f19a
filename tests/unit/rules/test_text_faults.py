"""The CSV text faults found by line (``adjudicator.rules.text_faults``): the header's line end, a quoted field
the end of the file leaves open; and the readers that refuse them before polars reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from adjudicator.errors import InputError, RulesError
from adjudicator.readers.paths import resolve_paths
from adjudicator.rules.tables import load_rules
from adjudicator.rules.text_faults import line_end_problem, open_quote_line


@pytest.mark.parametrize(
    ("head", "problem"),
    [
        (b"a,b\nc,d\n", None),
        (b"a,b\r\nc,d\r\n", None),
        (b"a,b\rc,d\r", "bare carriage return"),
        (b"a,b\r\r\nc,d\r\r\n", "\\r\\r\\n"),
        (b'a,b\n"c\rd",e\n', None),  # a carriage return inside a quoted field below the header is data
        (b"a,b", None),
    ],
)
def test_line_end_problem_judges_the_header_line_end(head: bytes, problem: str | None) -> None:
    found = line_end_problem(head)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_a_doubled_quote_inside_a_quoted_field_does_not_count_as_open(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('a,b\n"say ""hi""",1\n"two\nlines",2\n')
    assert open_quote_line(path) is None
    path.write_text('a,b\n1,2\n"open,3\n4,5\n')
    assert open_quote_line(path) == 3
    path.write_text('a,b\n12" ruler,1\n')  # a quote inside an unquoted field is text
    assert open_quote_line(path) is None


def test_the_readers_refuse_before_polars_reads(tmp_path: Path, rules_copy: Path) -> None:
    with pytest.raises(InputError) as caught:
        bare = tmp_path / "cr.csv"
        bare.write_bytes(b"claim_id,line_number\r1,1\r")
        resolve_paths([str(bare)])
    assert caught.value.line == 1
    table = rules_copy / "reasons.csv"
    table.write_bytes(table.read_bytes().replace(b"\n", b"\r\r\n"))
    with pytest.raises(RulesError) as refused:
        load_rules(rules_copy)
    assert refused.value.line == 1 and refused.value.table == "reasons.csv"
