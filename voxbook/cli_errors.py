"""The CLI's own error, in a module of its own: ``python -m voxbook.cli`` runs cli.py as ``__main__``, so a
command module importing ``CliError`` from ``voxbook.cli`` would get a second class that ``main`` does not
recognise (reported with a class name and exit 1 instead of one line and exit 2)."""


class CliError(Exception):
    """A failure to report as one line, without a traceback."""
