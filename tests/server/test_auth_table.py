"""Every route, called with no token, a wrong token and each role: 401, 403 or through,
exactly as the operation-to-role table of API.md §11 says."""

from __future__ import annotations

import hashlib

import pytest
import requests

from assetry.protocol.operations import OPERATIONS, OTHER_ROUTES, operation_path
from assetry.server.pages import PUBLIC_ROUTES
from tests.conftest import ROLES, RemoteServer

KEY = hashlib.sha256(b"nothing").hexdigest()
UPLOAD = "0" * 32


def routes() -> list[tuple[str, str, str]]:
    """(method, path template, role) of every route the server has."""
    found = [("POST", operation_path(name), role) for name, role in OPERATIONS.items()]
    found += [(method, path, role) for (method, path), role in OTHER_ROUTES.items()]
    return found


def concrete(path: str) -> str:
    return (
        path.replace("{sha256}", KEY).replace("{upload_id}", UPLOAD).replace("{token_id}", "nope")
    )


def call(server: RemoteServer, method: str, path: str, token: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    body: bytes | None = None
    if method in ("POST", "PUT"):
        # Wrong on purpose: a caller who gets past authorization hears 4xx about it,
        # and nothing is stored.
        body = b"{}"
        headers["Content-Type"] = "application/json"
    return requests.request(
        method, server.url + concrete(path), headers=headers, data=body, timeout=30
    )


def test_the_table_covers_every_route_of_the_app(remote_server: RemoteServer) -> None:
    served = requests.get(remote_server.url + "/openapi.json", timeout=30).json()["paths"]
    documented = {(method.upper(), path) for path, ops in served.items() for method in ops}
    table = {(method, path) for method, path, _ in routes()}
    # Every documented route needs a role, but for the few public ones (what the server
    # is, its health): those answer without a token and say nothing about the catalog.
    assert not table & PUBLIC_ROUTES
    assert documented == table | PUBLIC_ROUTES


def test_only_the_public_routes_answer_without_a_token(remote_server: RemoteServer) -> None:
    for method, path in sorted(PUBLIC_ROUTES):
        response = requests.request(method, remote_server.url + path, timeout=30)
        assert response.status_code == 200, (method, path, response.text)
        assert "RID" not in response.text


def test_every_route_without_a_token_or_with_a_wrong_one_is_401(
    remote_server: RemoteServer,
) -> None:
    real = remote_server.tokens["admin"]
    wrong = [None, "", "garbage", real[:-2] + "xx", real.replace("ast_", "xyz_")]
    for method, path, _ in routes():
        for token in wrong:
            response = call(remote_server, method, path, token)
            assert response.status_code == 401, (method, path, token, response.text)
            if method != "HEAD":
                assert response.json()["error"]["class"] == "AuthenticationError"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_its_routes(remote_server: RemoteServer, role: str) -> None:
    token = remote_server.tokens[role]
    for method, path, needed in routes():
        response = call(remote_server, method, path, token)
        if ROLES.index(role) < ROLES.index(needed):
            assert response.status_code == 403, (role, method, path, response.text)
            assert response.json()["error"]["class"] == "PermissionDenied"
            assert needed in response.json()["error"]["message"]
        else:
            assert response.status_code not in (401, 403), (role, method, path, response.text)
            assert response.status_code < 500, (role, method, path, response.text)
