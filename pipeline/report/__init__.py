"""The weekly compliance report: gathered from the marts, rendered as Markdown and HTML with
charts, written to files, and optionally e-mailed.

- :mod:`pipeline.report.data` gathers a week's numbers of every athlete in a fixed number of queries;
- :mod:`pipeline.report.render` builds a :class:`Report` for one athlete and ISO week;
- :mod:`pipeline.report.roster` the coach's roster digest of every athlete's week;
- :mod:`pipeline.report.email` delivers one over SMTP (settings from ``RUNLIFT_SMTP_*``).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Report:
    """One rendered weekly report.

    ``html`` references its images as ``cid:<name>`` (for e-mail, where they travel as inline
    MIME parts); ``html_file`` is the same page with the images inlined as data URIs, so the
    file on disk is self-contained. ``images`` maps each ``<name>`` to its PNG bytes.
    """

    athlete: str
    week: str  # ISO week, YYYY-Www
    subject: str  # e.g. "runlift · 2026-W37 · 2 errors, 1 warning"
    markdown: str
    html: str
    html_file: str
    images: dict[str, bytes] = field(default_factory=dict)
    severity_counts: dict[str, int] = field(default_factory=dict)
