"""Imported by the parse pool's forkserver (a ``set_forkserver_preload`` module): the forkserver
ends when runlift does (see :mod:`pipeline.orphans`)."""

import os

from pipeline.orphans import PARENT_ENV, exit_with_parent

exit_with_parent(int(os.environ[PARENT_ENV]) if os.environ.get(PARENT_ENV) else None)
