"""The layout spec: the values a layout is declared with (``Source``, ``Slots``, ``RejectWhen``,
``RedeliveryRule``, ``Layout``) and the ``--layout`` names.

Grain of every reader: one row per claim line *as read* (a DE-SynPUF claim row
becomes one row per non-empty line slot; an 837P interchange one row per SV1).
No row is dropped: a line the layout itself knows is unusable (an older CCLF
delivery, a RIF DELETE record) stays a row with a ``_reject_<check>`` flag, so
rows read = results + rejects holds for every layout.

Each layout is a ``Layout`` value in ``catalog.LAYOUT_SPECS``: its separator, null
tokens, which source column (or constant) feeds each canonical column and how
that text is normalised, its line slots, its row-level rejects. Adding a layout
is adding one entry there (and, for a non-delimited format, a reader); the
engine and the decision logic never see layout names.

Canonical columns come out as String raw text; a value the layout cannot
normalise (a date that does not parse, say) is passed on as it was read, so the
validator rejects it with its original text rather than seeing a silent null.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

CANONICAL_LAYOUT: Final = "canonical"
CCLF5: Final = "cclf5"
RIF_CARRIER: Final = "rif-carrier"
SYNPUF_CARRIER: Final = "synpuf-carrier"
X12_837P: Final = "x12-837p"

#: every layout ``--layout`` accepts, in the order the README lists them
LAYOUTS: Final = (CANONICAL_LAYOUT, CCLF5, RIF_CARRIER, SYNPUF_CARRIER, X12_837P)


#: how a layout's separator is named in messages and in docs/layouts.md
SEPARATOR_NAMES: Final = {",": "comma", "|": "pipe", ";": "semicolon", "\t": "tab"}


@dataclass(frozen=True)
class Source:
    """Where one canonical column comes from: the first non-blank of ``columns``, normalised; else ``constant``."""

    columns: tuple[str, ...] = ()
    normalize: str = "as_is"
    constant: str | None = None

    def describe(self) -> str:
        """The source as a table cell: columns in order of preference, the normaliser, the constant."""
        parts = [" else ".join(f"`{c}`" for c in self.columns)] if self.columns else []
        if self.normalize != "as_is":
            parts.append(f"({self.normalize})")
        if self.constant is not None:
            parts.append(f"else `{self.constant}`" if self.columns else f"always `{self.constant}`")
        return " ".join(parts) if parts else "always null"


@dataclass(frozen=True)
class Slots:
    """A wide row with ``count`` numbered line slots (``STEM_1`` .. ``STEM_n``), unpivoted to one row per slot.

    A slot is a line when its ``present`` column is non-blank; other slots are
    neither lines nor rejects. Slot columns lose their ``_n`` suffix; the slot
    number goes to ``number_column``.
    """

    count: int
    stems: tuple[str, ...]
    required_stems: tuple[str, ...]
    present: str
    number_column: str


@dataclass(frozen=True)
class RejectWhen:
    """A row-level check a layout knows: the row goes to rejects as ``check`` when ``column`` is one of ``values``."""

    check: str
    column: str
    values: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class RedeliveryRule:
    """Re-delivered lines: per canonical ``key``, copies older than the latest ``order_by`` date are rejected.

    The declared rule, as docs/layouts.md shows it; ``redelivery.supersede_rule`` turns it into the
    ``engine.facts.Supersede`` that the prepass applies.
    """

    check: str
    key: tuple[str, ...]
    order_by: str
    description: str


@dataclass(frozen=True)
class Layout:
    """One input layout, as data: how to read it and where each canonical column comes from."""

    name: str
    description: str
    grain: str
    format: Literal["table", "x12"]
    mapping: Mapping[str, Source]
    required_columns: tuple[str, ...] = ()
    separator: str = ","
    quote_char: str | None = '"'
    null_tokens: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()
    #: header columns that, all present, identify the layout when no ``--layout`` is given
    signature: tuple[str, ...] = ()
    slots: Slots | None = None
    rejects: tuple[RejectWhen, ...] = ()
    supersede: RedeliveryRule | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
