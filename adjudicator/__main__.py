"""``python -m adjudicator``: the same as the ``adjudicate`` command."""

import sys

from adjudicator.cli import main

sys.exit(main())
