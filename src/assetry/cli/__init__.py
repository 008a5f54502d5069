"""The ``assetry`` command line (entry point ``assetry.cli.main:main``).

``assetry --help`` lists the subcommands.
"""
