"""runlift: watch exports and strength logs into DuckDB, rules and a weekly report."""

__version__ = "0.1.0"
