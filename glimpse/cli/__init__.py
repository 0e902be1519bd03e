"""Subcommands of the `glimpse` CLI, one module each (see glimpse/cli.py)."""


class CLIError(Exception):
    """A user error: bad arguments or an impossible request. Exit code 2."""
