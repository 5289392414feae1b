"""Test-only parse-worker initializers for ``flows.ingest.WORKER_HOOK``: a worker that crashes (as a
segfaulting C extension does) or hangs (as a wedged task engine does) on one file.

They run in each spawned worker of the flows' ProcessPoolTaskRunner, after its watchdog, and wrap
``pipeline.ingest.parse_job`` there (the parse task calls it through ``parse_batch``)."""

from __future__ import annotations

import os
import signal
import time

import pipeline.ingest as ingest


def crash_on(name: str) -> None:
    """SIGSEGV the worker when it is given the file called ``name``."""
    real = ingest.parse_job

    def parse_job(job: ingest.Job) -> ingest.Parsed:
        if job.file.endswith(name):
            os.kill(os.getpid(), signal.SIGSEGV)
        return real(job)

    ingest.parse_job = parse_job


def hang_on(name: str) -> None:
    """Never return from the file called ``name`` (outside the parse time limit, which is not set yet)."""
    real = ingest.parse_job

    def parse_job(job: ingest.Job) -> ingest.Parsed:
        if job.file.endswith(name):
            while True:
                time.sleep(3600)
        return real(job)

    ingest.parse_job = parse_job


def slow_on(name: str, seconds: float) -> None:
    """Take ``seconds`` longer over the file called ``name`` (a big export, while something else happens)."""
    real = ingest.parse_job

    def parse_job(job: ingest.Job) -> ingest.Parsed:
        if job.file.endswith(name):
            time.sleep(seconds)
        return real(job)

    ingest.parse_job = parse_job
