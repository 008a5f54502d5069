"""The ``assetry`` command: argument parsing, dispatch, exit codes.

Exit codes: 0 success; 1 an ``AssetryError`` (or an operating-system error such as a
permission problem), reported as one ``assetry: error: ...`` line on stderr; 2 a usage
error (argparse's own). ``fsck`` also exits 1 when it finds missing or corrupt objects: its
report goes to stdout, the one error line to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from assetry import __version__
from assetry.cli import (
    artifacts,
    assets,
    bags,
    commands,
    datasets,
    demo,
    executions,
    features,
    server,
    stores,
    tables,
    ui,
)
from assetry.cli.output import Output
from assetry.errors import AssetryError

Handler = Callable[[argparse.Namespace, Output], None]
if TYPE_CHECKING:  # argparse's subparsers action is generic only to type checkers
    Group = argparse._SubParsersAction[argparse.ArgumentParser]
    AddCommand = Callable[[Group, str, Handler | None, str], argparse.ArgumentParser]


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return value


def _non_negative_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text!r} is not a non-negative number")
    return value


def _column_value(text: str) -> tuple[str, str]:
    column, sep, value = text.partition("=")
    if not sep or not column.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not COLUMN=VALUE")
    return column.strip(), value


def _global_options(defaults: bool) -> argparse.ArgumentParser:
    """``--catalog`` and ``--json``, accepted before or after the subcommand.

    Subcommand parsers get them with suppressed defaults, so a value given before the
    subcommand is not overwritten by the subparser's default.
    """
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument(
        "--catalog",
        metavar="LOC",
        default=None if defaults else argparse.SUPPRESS,
        help="catalog directory or database URL (default: $ASSETRY_CATALOG, else ./.assetry)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        default=False if defaults else argparse.SUPPRESS,
        help="machine output: one JSON document on stdout",
    )
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``assetry`` command."""
    common = _global_options(defaults=False)
    parser = argparse.ArgumentParser(
        prog="assetry",
        description="A schema-driven data catalog for machine-learning and scientific data.",
        parents=[_global_options(defaults=True)],
    )
    parser.add_argument("--version", action="version", version=f"assetry {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        group: argparse._SubParsersAction[argparse.ArgumentParser],
        name: str,
        handler: Handler | None,
        help_text: str,
    ) -> argparse.ArgumentParser:
        p = group.add_parser(name, help=help_text, description=help_text, parents=[common])
        if handler is not None:
            p.set_defaults(handler=handler)
        return p

    p = command(sub, "init", commands.cmd_init, "create a new catalog")
    p.add_argument("--store", metavar="URL", help="object store (default: <catalog>/objects)")
    p.add_argument("--domain-schema", metavar="NAME", help="schema name of user tables")

    command(sub, "upgrade", commands.cmd_upgrade, "migrate the catalog to this version")

    model = command(sub, "model", None, "show or apply the catalog's model")
    msub = model.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    command(msub, "show", commands.cmd_model_show, "print the model (tables, columns, keys)")
    p = command(msub, "apply", commands.cmd_model_apply, "create what a model document lacks")
    p.add_argument("file", metavar="FILE", help="JSON model document (- for stdin)")

    vocab = command(sub, "vocab", None, "controlled vocabularies and their terms")
    vsub = vocab.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    p = command(vsub, "create", commands.cmd_vocab_create, "create a vocabulary")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--comment", help="what the vocabulary is for")
    p = command(vsub, "add-term", commands.cmd_vocab_add_term, "add a term")
    p.add_argument("vocab", metavar="VOCAB")
    p.add_argument("term", metavar="TERM")
    p.add_argument("--description", metavar="D")
    p.add_argument(
        "--synonym",
        dest="synonyms",
        metavar="S",
        action="extend",
        nargs="+",
        help="another name of the term (repeatable)",
    )
    p.add_argument("--exists-ok", action="store_true", help="return an existing term of that name")
    p = command(vsub, "lookup", commands.cmd_vocab_lookup, "find a term by name or synonym")
    p.add_argument("vocab", metavar="VOCAB")
    p.add_argument("name", metavar="NAME")
    p = command(vsub, "list", commands.cmd_vocab_list, "list the terms of a vocabulary")
    p.add_argument("vocab", metavar="VOCAB")
    p = command(vsub, "add-synonym", commands.cmd_vocab_add_synonym, "add a synonym to a term")
    p.add_argument("vocab", metavar="VOCAB")
    p.add_argument("term", metavar="TERM")
    p.add_argument("synonym", metavar="SYN")
    p = command(vsub, "delete-term", commands.cmd_vocab_delete_term, "delete an unused term")
    p.add_argument("vocab", metavar="VOCAB")
    p.add_argument("term", metavar="TERM")

    tables.register(command, sub)

    p = command(sub, "history", commands.cmd_history, "every version of a row")
    p.add_argument("rid", metavar="RID")

    assets.register(command, sub)
    executions.register(command, sub)
    datasets.register(command, sub)
    features.register(command, sub)
    bags.register(command, sub)
    artifacts.register(command, sub)
    stores.register(command, sub)
    server.register(command, sub)
    ui.register(command, sub)

    p = command(sub, "demo", demo.cmd_demo, "build and tour a small example catalog")
    p.add_argument(
        "--dir",
        metavar="PATH",
        default=demo.DEFAULT_DIR,
        help=f"new or empty folder for the demo (default: ./{demo.DEFAULT_DIR})",
    )
    return parser


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return text or type(err).__name__


def _error(message: str) -> int:
    with contextlib.suppress(OSError, ValueError):  # stdout output comes before the error
        sys.stdout.flush()
    print(f"assetry: error: {message}", file=sys.stderr)
    return 1


# Cloud storage libraries log every failed attempt of a request with its traceback
# (gcsfs: ~150 lines for an unreachable endpoint) before the error the command reports in
# one line; a user who set a level for one of them keeps it.
NOISY_LIBRARIES = ("gcsfs", "adlfs", "azure", "fsspec")


def _quiet_libraries() -> None:
    for name in NOISY_LIBRARIES:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.CRITICAL)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``assetry`` command with ``argv`` (default: ``sys.argv[1:]``); return the
    exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help and --version (0), usage errors (2)
        return stop.code if isinstance(stop.code, int) else 0 if stop.code is None else 2
    out = Output(args.json, sys.stdout)
    _quiet_libraries()
    try:
        args.handler(args, out)
        sys.stdout.flush()
    except AssetryError as err:
        return _error(_one_line(err))
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: stop quietly, and keep Python's exit-time
        # flush from raising again.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 1
    except OSError as err:
        return _error(_one_line(err))
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    return 0
