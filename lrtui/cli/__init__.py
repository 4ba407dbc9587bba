"""The command line: ``lrtui`` (the app), ``lrtui run``, ``describe``, ``export-script``,
``lessons`` and ``serve``. No Textual: the app and the server are imported by the commands
that start them."""

from .commands import main, run

__all__ = ["main", "run"]
