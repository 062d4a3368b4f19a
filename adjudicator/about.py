"""What the package says of itself: its version, the name it is installed by, and when this process imported it."""

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

__all__ = ["CPU_BEFORE_IMPORT", "DISTRIBUTION", "IMPORTED_AT", "__version__"]
