"""``assetry ui``: the web interface of any catalog (embedded, database or a server) on
this machine's loopback address (API §14)."""

from __future__ import annotations

import argparse
import threading
import webbrowser
from typing import TYPE_CHECKING

from assetry.cli.commands import open_catalog
from assetry.cli.output import Output
from assetry.errors import ConfigError

if TYPE_CHECKING:
    from assetry.cli.main import AddCommand, Group

HOST = "127.0.0.1"


def register(command: AddCommand, sub: Group) -> None:
    p = command(sub, "ui", cmd_ui, "browse the catalog in a web browser (assetry[ui])")
    p.add_argument("--port", type=int, default=8470, help="port on 127.0.0.1 (8470)")
    p.add_argument("--open", action="store_true", help="open the pages in a browser")


def cmd_ui(args: argparse.Namespace, out: Output) -> None:
    """Serve the pages on 127.0.0.1 until interrupted."""
    try:
        import uvicorn

        from assetry.ui.app import local_app
    except ModuleNotFoundError as err:
        raise ConfigError(
            f"the web interface needs {err.name!r}; install it with: pip install 'assetry[ui]'"
        ) from None
    with open_catalog(args) as cat:
        url = f"http://{HOST}:{args.port}/ui/"
        out.line(f"assetry ui: {cat.location} at {url} (Ctrl-C stops)")
        if args.open:
            threading.Timer(1.0, webbrowser.open, [url]).start()
        uvicorn.run(local_app(cat), host=HOST, port=args.port, log_level="warning")
