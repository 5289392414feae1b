"""Errors a user can act on: each is printed as one line (``runlift: ...``, exit 1), never a
traceback. Library code raises a :class:`UserError` subclass; the CLI catches the base class."""

from __future__ import annotations


class UserError(Exception):
    """A one-line error for the person running runlift; ``str(err)`` is the whole message."""


class ConfigError(UserError):
    """A problem with the configuration or the command's arguments; the message names the key."""


class MissingDatabaseError(UserError):
    """The DuckDB file the command reads does not exist (or holds no build yet)."""


class DatabaseBusyError(UserError):
    """Another process holds the DuckDB file's write lock."""


class QueryError(UserError):
    """An analyst's SQL query failed (``runlift sql``)."""


class ModelError(UserError):
    """A SQL model failed to build or one of its data tests failed (the message names both)."""


class ReportError(UserError):
    """A user error in the report's arguments (a malformed ISO week)."""


class EmailConfigError(UserError):
    """SMTP is not configured, or a ``RUNLIFT_SMTP_*`` variable is malformed (names the variable)."""


class DeliveryError(UserError):
    """The report could not be delivered; a one-line message without credentials."""


class IngestInterrupted(UserError):
    """Ctrl-C during ingest: stopped cleanly; the files written stay, the rest load next run."""

    exit_code = 130  # as a shell reports a process ended by SIGINT

    def __init__(self, loaded: int) -> None:
        super().__init__(f"interrupted; {loaded} file{'' if loaded == 1 else 's'} loaded, the rest will load next run")
        self.loaded = loaded


class ChildDied(UserError):
    """A step runlift ran in a process of its own ended without a result (the out-of-memory killer,
    a crash in C); DuckDB rolls back what it had not committed."""
