"""The ``assetry`` command line: ``assetry --help`` lists the subcommands."""

from assetry.cli.main import main

__all__ = ["main"]
