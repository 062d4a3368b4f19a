"""Run one command and report its wall time and peak RSS as one JSON line on stdout.

A fresh wrapper process per measured run is what makes the peak right:
`getrusage(RUSAGE_CHILDREN).ru_maxrss` is the largest peak among the waited-for
children of the calling process, so in a long-lived runner it would only ever
grow. Here the only child is the measured command. The wrapper's own start-up
is outside the timed span; the command's interpreter start-up and imports are
inside it, for every contender alike.

Usage: python -m benchmarks._measure --log FILE [--timeout S] -- COMMAND...
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, required=True, help="the command's stdout+stderr")
    parser.add_argument("--timeout", type=float, default=None)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("a COMMAND after -- is required")
    timed_out = False
    with args.log.open("wb") as log:
        started = time.perf_counter()
        try:
            returncode = subprocess.run(
                command, stdout=log, stderr=subprocess.STDOUT, timeout=args.timeout, check=False
            ).returncode
        except subprocess.TimeoutExpired:
            timed_out, returncode = True, -9
        wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = {
        "wall_s": round(wall, 4),
        # Linux reports ru_maxrss in KiB
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "user_s": round(usage.ru_utime, 3),
        "sys_s": round(usage.ru_stime, 3),
        "returncode": returncode,
        "timed_out": timed_out,
    }
    sys.stdout.write(json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
