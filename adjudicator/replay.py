"""The options of a past run (``replay_options``), after proving its inputs and rule tables are byte-for-byte the
ones the run read: ``adjudicate run --replay MANIFEST``."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from adjudicator.errors import InputError
from adjudicator.options import NO_HISTORY_YET, RunOptions, recorded_path
from adjudicator.rules.tables import sha256


def replay_options(manifest_path: Path, *, out: Path | None = None, overwrite: bool = False) -> RunOptions:
    """The options of a past run, after proving its inputs and rule tables are byte-for-byte the same.

    Raises ``InputError`` naming the first file whose checksum differs (or that
    is gone), so a replay never silently runs on changed data.
    """
    try:
        manifest = json.loads(Path(manifest_path).read_text())
        return _replay_options(manifest, Path(manifest_path), out=out, overwrite=overwrite)
    except InputError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"not a readable adjudicator manifest: {exc!r}", path=manifest_path) from None


def _replay_options(manifest: dict[str, Any], source: Path, *, out: Path | None, overwrite: bool) -> RunOptions:
    """``replay_options`` of a manifest read from ``source``: the recorded options meet the command line's checks
    (``RunOptions.from_json``), and every file is found where the run found it (``recorded_path``: a relative
    path from the run's own working folder, never from this one)."""
    recorded = manifest["options"]
    run_id = manifest["run_id"]
    try:
        options = RunOptions.from_json(recorded)
    except ValueError as exc:
        raise InputError(f"options of the run {run_id}: {exc}; refusing to replay", path=source) from None
    cwd = recorded.get("cwd")
    inputs = tuple(recorded_path(i["path"], cwd) for i in manifest["inputs"])
    options = dataclasses.replace(options, inputs=inputs)
    files = [(path, i["sha256"], "input") for path, i in zip(inputs, manifest["inputs"], strict=True)]
    files += [
        (recorded_path(r["path"], cwd), r["sha256"], f"rule table {name}") for name, r in manifest["rules"].items()
    ]
    if options.slice.claims_file is not None:
        files.append((str(options.slice.claims_file), manifest.get("claims_file_sha256"), "claims list"))
    for path, digest, what in files:
        if not os.path.isfile(path):
            raise InputError(f"{what} of the run {run_id} is gone; cannot replay", path=path)
        if sha256(path) != digest:
            raise InputError(f"{what} changed since run {run_id} (sha256 differs); refusing to replay", path=path)
    history = manifest.get("history") or {}
    read = history.get("version_read")
    return dataclasses.replace(
        options,
        out=Path(out) if out is not None else options.out,
        layout=manifest.get("layout") or recorded.get("layout"),
        overwrite=overwrite,
        # the history as the run saw it (Delta time travel); a replay writes nothing to it
        history_version=(NO_HISTORY_YET if read is None else int(read)) if options.history is not None else None,
    )
