"""``python -m pipeline.orphans_watchdog RUNLIFT_PID OWNER``: once runlift is gone, ends the
processes it owned (see :func:`pipeline.orphans.end_descendants_with_this_process`)."""

import sys

from pipeline.orphans import watch

if __name__ == "__main__":
    watch(int(sys.argv[1]), sys.argv[2])
