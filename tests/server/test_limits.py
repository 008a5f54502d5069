"""Per-token request limits: a token over its rate is answered 429 with Retry-After
before anything is done; other tokens and /health are not affected; the client waits
and sends the request again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from assetry import Catalog
from assetry.client import transport
from assetry.server.limits import TokenBuckets
from tests.conftest import clone_sqlite


def test_a_bucket_allows_its_burst_then_its_rate() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate=2.0, burst=3.0, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)
    assert buckets.take("b") == 0.0  # another caller has its own bucket
    now[0] = 0.6
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 0
    now[0] = 100.0
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]  # refilled, to the burst
    assert buckets.take("a") > 0


def test_a_bucket_refuses_nonsense_settings() -> None:
    for rate, burst in ((0, 5), (-1, 5), (1, 0.5)):
        with pytest.raises(ValueError, match="rate"):
            TokenBuckets(rate, burst)


@pytest.fixture
def limited(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    from assetry.server import auth
    from assetry.server.app import create_app
    from assetry.server.run import background_server

    cat = clone_sqlite(sqlite_template, tmp_path / "served")
    tokens = {u: auth.create_token(cat._backend, u, "reader")[0] for u in ("ann", "bob")}  # type: ignore[arg-type]
    cat.close()
    app = create_app(str(tmp_path / "served"), rate_limit=2.0, rate_burst=5.0)
    with background_server(app) as url:
        yield url, tokens


def test_a_token_over_its_limit_gets_429_with_retry_after(
    limited: tuple[str, dict[str, str]],
) -> None:
    url, tokens = limited
    ann = {"Authorization": f"Bearer {tokens['ann']}"}
    answers = [requests.get(f"{url}/api/v1/whoami", headers=ann, timeout=30) for _ in range(8)]
    codes = [a.status_code for a in answers]
    assert codes[:5] == [200] * 5 and 429 in codes[5:]
    refused = next(a for a in answers if a.status_code == 429)
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["error"]["class"] == "ConflictError"
    assert "retry in" in refused.json()["error"]["message"]
    bob = {"Authorization": f"Bearer {tokens['bob']}"}
    assert requests.get(f"{url}/api/v1/whoami", headers=bob, timeout=30).status_code == 200
    for _ in range(10):
        assert requests.get(f"{url}/health", timeout=30).status_code == 200


def test_the_client_waits_and_sends_again(
    limited: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, tokens = limited
    waits: list[float] = []
    monkeypatch.setattr(transport, "_retry_after", lambda response: waits.append(0.2) or 0.2)
    cat = Catalog(url, token=tokens["ann"])
    names = [cat.lookup_term("Asset_Role", "input").name for _ in range(12)]
    assert names == ["Input"] * 12
    assert waits  # some calls were refused, then went through
    cat.close()


def test_the_client_gives_up_after_a_few_refusals(
    limited: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, tokens = limited
    monkeypatch.setattr(transport, "_retry_after", lambda response: 0.0)
    cat = Catalog(url, token=tokens["ann"])
    from assetry import ConflictError

    with pytest.raises(ConflictError, match="too many requests"):
        for _ in range(40):
            cat.lookup_term("Asset_Role", "input")
    cat.close()
