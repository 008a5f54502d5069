"""schemathesis against the served OpenAPI document: generated requests for every route,
with an admin token, never get a 5xx (a small, derandomized CI profile)."""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import RemoteServer, service_missing

EXAMPLES = int(os.environ.get("ASSETRY_FUZZ_EXAMPLES", "6"))


def test_no_route_answers_5xx(remote_server: RemoteServer) -> None:
    try:
        import schemathesis
    except ModuleNotFoundError:
        service_missing("schemathesis is not installed")
        return
    import requests

    document = requests.get(remote_server.url + "/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(document)
    headers = {"Authorization": f"Bearer {remote_server.tokens['admin']}"}
    failures: list[str] = []
    tried = 0

    def fuzz(strategy: st.SearchStrategy[Any]) -> None:
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(st.data())
        def run(data: st.DataObject) -> None:
            nonlocal tried
            case = data.draw(strategy)
            response = case.call(base_url=remote_server.url, headers=headers, timeout=30)
            tried += 1
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path}: {response.status_code} "
                    f"{response.text[:200]} body={str(case.body)[:200]}"
                )

        run()

    for result in schema.get_all_operations():
        fuzz(result.ok().as_strategy())
    assert tried >= len(document["paths"])
    assert failures == [], "\n".join(failures[:20])


@pytest.mark.parametrize("path", ["/openapi.json", "/docs"])
def test_documentation_is_served_without_a_token(remote_server: RemoteServer, path: str) -> None:
    import requests

    assert requests.get(remote_server.url + path, timeout=30).status_code == 200
