"""Each declared layout as Markdown: the blocks docs/layouts.md holds verbatim (a test keeps them in step)."""

from __future__ import annotations

from adjudicator.contract import CANONICAL_COLUMNS
from adjudicator.readers.catalog import LAYOUT_SPECS
from adjudicator.readers.specs import CANONICAL_LAYOUT, SEPARATOR_NAMES, Layout


def describe_layout(spec: Layout) -> str:
    """One layout's declared mapping as Markdown (docs/layouts.md holds these blocks verbatim; a test checks)."""
    lines = [f"### `{spec.name}`", "", f"{spec.description}.", "", f"- grain: {spec.grain}"]
    if spec.format == "table" and spec.name != CANONICAL_LAYOUT:
        sep = SEPARATOR_NAMES.get(spec.separator, repr(spec.separator))
        nulls = ", ".join(f"`{t}`" for t in spec.null_tokens) or "empty field only"
        lines.append(f"- file: {sep}-separated text with a header; null: {nulls}")
    if spec.required_columns and spec.name != CANONICAL_LAYOUT:
        lines.append(f"- required columns: {', '.join(f'`{c}`' for c in spec.required_columns)}")
    if spec.slots is not None:
        slots = spec.slots
        stems = ", ".join(f"`{stem}_n`" for stem in slots.stems)
        lines.append(
            f"- line slots n = 1..{slots.count}: {stems} (required: "
            f"{', '.join(f'`{s}_n`' for s in slots.required_stems)}); slot n is a line when "
            f"`{slots.present}_n` is not blank; its columns lose the `_n`, and `{slots.number_column}` = n"
        )
    for rule in spec.rejects:
        lines.append(f"- row-level reject `{rule.check}`: {rule.description}")
    if spec.supersede is not None:
        lines.append(f"- row-level reject `{spec.supersede.check}`: {spec.supersede.description}")
    lines += ["", "| canonical column | from |", "|---|---|"]
    lines += [f"| {c} | {spec.mapping[c].describe()} |" for c in CANONICAL_COLUMNS]
    if spec.notes:
        lines += ["", *(f"- {note}" for note in spec.notes)]
    return "\n".join(lines) + "\n"


def describe_layouts() -> str:
    """Every layout's ``describe_layout``, in ``LAYOUTS`` order."""
    return "\n".join(describe_layout(spec) for spec in LAYOUT_SPECS.values())
