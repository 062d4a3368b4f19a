"""The ``adjudicate`` command line (``main``; ``python -m adjudicator`` is the same).

Modules: ``args`` (the parser and its help texts), ``app`` (the commands and exit codes), ``signals`` (SIGINT and
SIGTERM while a command runs).
"""

from adjudicator.cli.app import main
from adjudicator.cli.args import parser

__all__ = ["main", "parser"]
