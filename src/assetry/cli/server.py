"""``assetry serve`` and ``assetry token create|list|revoke``.

Token commands work directly on the catalog's database (that is how the first admin
token is made); given a server URL as ``--catalog`` they go through its admin routes.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from assetry import config
from assetry.cli.output import Output
from assetry.errors import ConfigError, ValidationError

if TYPE_CHECKING:
    from assetry.cli.main import AddCommand, Group

ROLES = ("reader", "writer", "curator", "admin")


def register(command: AddCommand, sub: Group) -> None:
    p = command(sub, "serve", cmd_serve, "serve a catalog over HTTP (assetry[server])")
    p.add_argument("--store", metavar="URL", help="object store (default: the recorded one)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=8470, help="port to listen on (8470)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (1)")
    p.add_argument(
        "--upload-dir",
        metavar="PATH",
        help="folder for partial uploads, shared by the workers (default: in the catalog)",
    )
    p.add_argument(
        "--upload-expiry",
        metavar="SPAN",
        default="24h",
        help="an upload session is refused and collected this long after it began (24h)",
    )
    p.add_argument(
        "--rate-limit",
        metavar="N",
        type=float,
        default=None,
        help="requests per second per token, bursts of 10x (1000; 0: no limit); more get 429",
    )
    p.add_argument(
        "--log-level", default="info", choices=("critical", "error", "warning", "info", "debug")
    )

    group = command(sub, "token", None, "bearer tokens of the server (admin)")
    tsub = group.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    p = command(tsub, "create", cmd_token_create, "make a token; its secret is printed once")
    p.add_argument("--role", required=True, choices=ROLES)
    p.add_argument("--user", required=True, metavar="NAME", help="recorded in RCB/RMB")
    p.add_argument("--expires-in", metavar="SPAN", help="lifetime such as 30d, 12h, 2w")
    p.add_argument("--description", metavar="D", help="what the token is for")
    command(tsub, "list", cmd_token_list, "list tokens (never their secrets)")
    p = command(tsub, "revoke", cmd_token_revoke, "revoke a token by id (or the whole token)")
    p.add_argument("token_id", metavar="ID")


def cmd_serve(args: argparse.Namespace, out: Output) -> None:
    """Serve the catalog until interrupted."""
    location = config.resolve_location(args.catalog)
    if location.remote:
        raise ConfigError("serve a directory or database catalog, not a server URL")
    try:
        from assetry.server.run import serve
    except ModuleNotFoundError as err:
        raise ConfigError(
            f"the server needs {err.name!r}; install it with: pip install 'assetry[server]'"
        ) from None
    serve(
        location.text,
        args.store,
        args.host,
        args.port,
        workers=args.workers,
        upload_dir=args.upload_dir,
        log_level=args.log_level,
        upload_expiry=_seconds(args.upload_expiry, "--upload-expiry"),
        rate_limit=args.rate_limit,
    )


def _seconds(span: str, option: str) -> float:
    from assetry.server import auth

    try:
        return auth.parse_duration(span).total_seconds()
    except ValidationError as err:
        raise ConfigError(f"{option}: {err}") from None


def _remote(location: config.Location) -> Any:
    from assetry.client.transport import Transport

    assert location.remote_url is not None
    return Transport(location.remote_url, config.remote_token(location.remote_url, None))


def cmd_token_create(args: argparse.Namespace, out: Output) -> None:
    location = config.resolve_location(args.catalog)
    if location.remote:
        body = {
            "user": args.user,
            "role": args.role,
            "expires_in": args.expires_in,
            "description": args.description,
        }
        made: dict[str, Any] = (
            _remote(location).request("POST", "/api/v1/tokens", json_body=body).json()
        )
    else:
        from assetry.server import auth

        lifetime = auth.parse_duration(args.expires_in) if args.expires_in else None
        with _database(location) as backend:
            token, info = auth.create_token(
                backend, args.user, args.role, lifetime, args.description
            )
        made = {"token": token, **info.as_dict()}
    if out.json_mode:
        out.json(made)
        return
    out.line(made["token"])
    expiry = made["expires"] or "never"
    out.line(f"(id {made['id']}, user {made['user']}, role {made['role']}, expires {expiry};")
    out.line(" the token is shown only now: keep it somewhere safe)")


def cmd_token_list(args: argparse.Namespace, out: Output) -> None:
    location = config.resolve_location(args.catalog)
    if location.remote:
        found: list[dict[str, Any]] = _remote(location).request("GET", "/api/v1/tokens").json()
    else:
        from assetry.server import auth

        with _database(location) as backend:
            found = [t.as_dict() for t in auth.list_tokens(backend)]
    if out.json_mode:
        out.json(found)
        return
    columns = ["id", "user", "role", "created", "expires", "revoked", "description"]
    out.table(columns, [[t.get(c) or "" for c in columns] for t in found], "(no tokens)")


def cmd_token_revoke(args: argparse.Namespace, out: Output) -> None:
    location = config.resolve_location(args.catalog)
    if location.remote:
        # In the body, never the URL: a whole token there would be kept by access logs.
        info: dict[str, Any] = (
            _remote(location)
            .request("POST", "/api/v1/tokens/revoke", json_body={"token": args.token_id})
            .json()
        )
    else:
        from assetry.server import auth

        with _database(location) as backend:
            info = auth.revoke_token(backend, args.token_id).as_dict()
    if out.json_mode:
        out.json(info)
    else:
        out.line(f"Revoked token {info['id']} of {info['user']} ({info['role']})")


class _database:
    """The catalog's SqlBackend, for commands that work on the database itself."""

    def __init__(self, location: config.Location) -> None:
        from assetry.sql.backend import SqlBackend

        self.backend = SqlBackend.at(location)

    def __enter__(self) -> Any:
        return self.backend

    def __exit__(self, *exc: object) -> None:
        self.backend.close()
