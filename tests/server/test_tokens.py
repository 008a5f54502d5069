"""Tokens: made on the database or by an admin over HTTP, stored hashed, bound to a user
(recorded in RCB/RMB), expiring and revocable."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from assetry import (
    AuthenticationError,
    Catalog,
    ColumnDef,
    PermissionDenied,
    TableDef,
    ValidationError,
)
from assetry.cli.main import main
from assetry.server import auth
from assetry.sql import internal
from assetry.sql.backend import SqlBackend
from tests.conftest import RemoteServer


def backend_of(server: RemoteServer) -> tuple[Catalog, SqlBackend]:
    local = Catalog(server.location)
    assert isinstance(local._backend, SqlBackend)
    return local, local._backend


def test_only_a_hash_of_the_secret_is_stored(remote_server: RemoteServer) -> None:
    local, backend = backend_of(remote_server)
    with backend.session() as s:
        stored = s.conn.execute(sa.select(internal.tokens)).all()
    local.close()
    dump = repr(stored)
    for token in remote_server.tokens.values():
        secret = token.split("_", 2)[2]
        assert secret not in dump
    assert len(stored) == 4 and all(len(row.secret_hash) == 64 for row in stored)


def test_changes_are_recorded_as_the_tokens_user(remote_server: RemoteServer) -> None:
    admin = remote_server.catalog("admin")
    admin.create_table(TableDef("Note", [ColumnDef("Name"), ColumnDef("Description")]))
    writer = remote_server.catalog("writer")
    [rid] = writer.insert("Note", [{"Name": "w"}])
    row = writer.resolve_rid(rid).row
    assert row["RCB"] == row["RMB"] == "writer-user"
    admin.update("Note", [{"RID": rid, "Description": "changed"}])
    row = admin.resolve_rid(rid).row
    assert (row["RCB"], row["RMB"]) == ("writer-user", "admin-user")


def test_a_revoked_token_stops_working_at_once(remote_server: RemoteServer) -> None:
    local, backend = backend_of(remote_server)
    token, info = auth.create_token(backend, "temp", "reader")
    cat = Catalog(remote_server.url, token=token)
    assert cat.snapshot() >= 1
    auth.revoke_token(backend, info.id)
    with pytest.raises(AuthenticationError):
        cat.snapshot()
    local.close()


def test_an_expired_token_is_refused(remote_server: RemoteServer) -> None:
    local, backend = backend_of(remote_server)
    token, info = auth.create_token(backend, "old", "reader", dt.timedelta(hours=1))
    with backend.session(write=True) as s:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        s.conn.execute(
            internal.tokens.update().where(internal.tokens.c.id == info.id).values(expires=past)
        )
    local.close()
    with pytest.raises(AuthenticationError, match="expired"):
        Catalog(remote_server.url, token=token)


def test_admin_routes_make_list_and_revoke_tokens(remote_server: RemoteServer) -> None:
    url, admin = remote_server.url, remote_server.tokens["admin"]
    headers = {"Authorization": f"Bearer {admin}"}
    made = requests.post(
        url + "/api/v1/tokens",
        json={"user": "dana", "role": "curator", "expires_in": "2d"},
        headers=headers,
        timeout=30,
    )
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    assert Catalog(url, token=token)._backend.whoami() == {  # type: ignore[attr-defined]
        "user": "dana",
        "role": "curator",
    }
    listed = requests.get(url + "/api/v1/tokens", headers=headers, timeout=30).json()
    assert "dana" in [t["user"] for t in listed]
    assert all("token" not in t and "secret_hash" not in t for t in listed)
    gone = requests.delete(f"{url}/api/v1/tokens/{made.json()['id']}", headers=headers, timeout=30)
    assert gone.status_code == 200 and gone.json()["revoked"]
    with pytest.raises(AuthenticationError):
        Catalog(url, token=token)
    bad = requests.post(
        url + "/api/v1/tokens", json={"user": "x", "role": "king"}, headers=headers, timeout=30
    )
    assert bad.status_code == 422 and "unknown role" in bad.json()["error"]["message"]


def test_a_writer_cannot_change_the_model_or_make_tokens(remote_server: RemoteServer) -> None:
    writer = remote_server.catalog("writer")
    with pytest.raises(PermissionDenied, match="curator"):
        writer.create_vocabulary("Species")
    with pytest.raises(PermissionDenied, match="curator"):
        writer.add_term("Workflow_Type", "Sneaky")
    reader = remote_server.catalog("reader")
    with pytest.raises(PermissionDenied, match="writer"):
        reader.create_workflow("w", "Training", url="u", checksum="c")
    assert "Species" not in reader.list_tables()


def test_token_from_environment_and_credentials_file(
    remote_server: RemoteServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ASSETRY_TOKEN", raising=False)
    monkeypatch.setenv("ASSETRY_CREDENTIALS", str(tmp_path / "credentials.json"))
    with pytest.raises(AuthenticationError, match="needs a token"):
        Catalog(remote_server.url)
    monkeypatch.setenv("ASSETRY_TOKEN", remote_server.tokens["reader"])
    assert Catalog(remote_server.url)._backend.whoami()["role"] == "reader"  # type: ignore[attr-defined]
    monkeypatch.delenv("ASSETRY_TOKEN")
    (tmp_path / "credentials.json").write_text(
        json.dumps({remote_server.url + "/": remote_server.tokens["writer"]})
    )
    assert Catalog(remote_server.url)._backend.whoami()["role"] == "writer"  # type: ignore[attr-defined]


def test_cli_token_commands_on_the_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    loc = str(tmp_path / "cat")
    assert main(["init", "--catalog", loc]) == 0
    capsys.readouterr()
    assert main(["--catalog", loc, "token", "create", "--role", "admin", "--user", "root",
                 "--expires-in", "30d", "--json"]) == 0  # fmt: skip
    made = json.loads(capsys.readouterr().out)
    assert made["token"].startswith("ast_") and made["role"] == "admin"
    assert main(["--catalog", loc, "token", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [t["id"] for t in listed] == [made["id"]] and "token" not in listed[0]
    assert main(["--catalog", loc, "token", "revoke", made["id"]]) == 0
    assert "Revoked" in capsys.readouterr().out
    assert main(["--catalog", loc, "token", "revoke", "nope"]) == 1
    assert "no token" in capsys.readouterr().err
    assert main(["--catalog", loc, "token", "create", "--role", "admin", "--user", "x",
                 "--expires-in", "soon"]) == 1  # fmt: skip
    assert "bad duration" in capsys.readouterr().err


def test_bad_token_arguments() -> None:
    with pytest.raises(ValidationError, match="bad duration"):
        auth.parse_duration("0d")
    with pytest.raises(ValidationError, match="unknown role"):
        auth.check_role("owner")
