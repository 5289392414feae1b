"""Imported by the parse pool's forkserver (a ``set_forkserver_preload`` module): the forkserver
ends when runlift does (see :mod:`pipeline.orphans`)."""

from pipeline.orphans import exit_with_parent

exit_with_parent()
