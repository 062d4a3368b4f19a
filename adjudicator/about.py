"""What the package says of itself: its version, the name it is installed by, when this process imported it, and
the process's age from there (a run's ``startup_s``)."""

from __future__ import annotations

import time

__version__ = "0.1.0"
#: the name it is installed by (``pip install claims-adjudicator``): ``adjudicator`` on the public index is another
#: project's; the import package is ``adjudicator``
DISTRIBUTION = "claims-adjudicator"

#: when this process first imported the package (``time.perf_counter``; the package's ``__init__`` imports this
#: module first) and the CPU time the process had used by then: a run's ``startup_s`` starts from them
IMPORTED_AT = time.perf_counter()
CPU_BEFORE_IMPORT = time.process_time()


def process_age() -> float:
    """Seconds since this process's own start: the wall time since the package was imported, plus the CPU time
    the process had used before (the interpreter's own start, which is CPU work). Not the kernel's start time of
    the process (``/proc/self/stat``): a shell that runs other commands first and then hands its process over
    (``bash -c "pip install ... && adjudicate ..."`` execs the last command) would count all of its own time."""
    return time.perf_counter() - IMPORTED_AT + CPU_BEFORE_IMPORT


def startup_seconds(first_batch_at: float | None) -> float | None:
    """Start-up: from the process's start to the first batch of lines read (None when no batch came)."""
    if first_batch_at is None:
        return None
    return round(process_age() - (time.perf_counter() - first_batch_at), 3)


__all__ = ["CPU_BEFORE_IMPORT", "DISTRIBUTION", "IMPORTED_AT", "__version__", "process_age", "startup_seconds"]
