"""runlift: watch exports and strength logs into DuckDB, rules and a weekly report."""

import logging

__version__ = "0.1.0"

# a library logs; the application (CLI, Prefect) decides where it goes
logging.getLogger("runlift").addHandler(logging.NullHandler())
