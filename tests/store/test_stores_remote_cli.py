"""Store administration over a server (roles checked below the Backend seam) and from
the shell (``assetry store ...``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assetry import Catalog, ExecutionConfiguration, PermissionDenied
from assetry.records.stores import StoreEntry, StoreRule
from tests.cli.test_cli import make_runner
from tests.conftest import NewCatalog, RemoteServer


def test_roles_over_a_server(remote_server: RemoteServer, tmp_path: Path) -> None:
    archive = str(tmp_path / "archive")
    reader, writer = remote_server.catalog("reader"), remote_server.catalog("writer")
    curator, admin = remote_server.catalog("curator"), remote_server.catalog("admin")
    assert [s.name for s in reader.list_stores()] == ["default"]
    for cat in (reader, writer, curator):
        with pytest.raises(PermissionDenied, match="admin"):
            cat.add_store("archive", archive)
    assert admin.add_store("archive", archive) == StoreEntry("archive", archive)
    admin.create_asset("Image")
    for cat in (reader, writer):
        with pytest.raises(PermissionDenied, match="curator"):
            cat.set_store_rule(table="Image", store="archive")
    assert curator.set_store_rule(table="Image", store="archive") == [
        StoreRule("archive", "Image", None)
    ]
    with pytest.raises(PermissionDenied, match="admin"):
        curator.stores.migrate_objects(to="archive")

    # A writer's upload names its asset table: the server's rules send it to the archive.
    wf = writer.create_workflow("remote", "Training", url="https://x/y.py", checksum="sha256:1")
    exe = writer.create_execution(ExecutionConfiguration(workflow=wf))
    exe.asset_file_path("Image", "a.png").write_bytes(b"over the wire")
    asset = exe.upload_execution_outputs()["Image"][0]
    assert (Path(archive) / asset["SHA256"][:2] / asset["SHA256"][2:]).is_file()
    assert admin.stores.migrate_objects()["moved"] == 0  # already where the rules say
    got = reader.download_asset(asset["RID"], tmp_path / "down" / "a.png")
    assert got.read_bytes() == b"over the wire"
    for cat in (reader, writer, curator, admin):
        cat.close()


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Any:
    return make_runner(capsys)


def test_the_store_commands(run: Any, new_catalog: NewCatalog, tmp_path: Path) -> None:
    loc = str(tmp_path / "cat")
    with new_catalog(Path(loc)) as cat:
        cat.create_asset("Image")
        wf = cat.create_workflow("cli", "Training", url="https://x/y.py", checksum="sha256:1")
        exe = cat.create_execution(ExecutionConfiguration(workflow=wf))
        exe.asset_file_path("Image", "a.png").write_bytes(b"moved by the shell")
        exe.upload_execution_outputs()
    archive = str(tmp_path / "archive")

    done = run("--catalog", loc, "store", "add", "archive", archive)
    assert done.code == 0 and "added store archive" in done.out
    done = run("--catalog", loc, "--json", "store", "rule", "archive", "--table", "Image")
    assert json.loads(done.out) == [{"store": "archive", "table": "Image", "size_over": None}]
    done = run("--catalog", loc, "store", "rule", "archive", "--size-over", "10MB")
    assert done.code == 0 and "10000000" in done.out
    done = run("--catalog", loc, "--json", "store", "list")
    listed = json.loads(done.out)
    assert [s["name"] for s in listed["stores"]] == ["default", "archive"]
    assert len(listed["rules"]) == 2
    done = run("--catalog", loc, "--json", "store", "migrate")
    assert json.loads(done.out)["moved"] == 1  # the Image object; the environment stays
    done = run("--catalog", loc, "store", "unrule", "--size-over", "10MB")
    assert done.code == 0
    done = run("--catalog", loc, "store", "list")
    assert "archive" in done.out and "(any)" in done.out

    # Bad input: one clear line, exit code 1, nothing changed.
    for argv, message in (
        (["store", "add", "9bad", archive], "store name"),
        (["store", "add", "ftp", "ftp://x/y"], "unknown object store scheme"),
        (["store", "rule", "attic", "--table", "Image"], "no store named 'attic'"),
        (["store", "rule", "archive", "--size-over", "lots"], "not a byte count"),
        (["store", "remove", "archive"], "rules"),
        (["store", "default", "attic"], "no store named"),
        (["store", "migrate", "--to", "attic"], "no store named"),
    ):
        done = run("--catalog", loc, *argv)
        assert done.code == 1, (argv, done.out, done.err)
        assert message in done.err
    with Catalog(loc) as cat:
        assert [s.name for s in cat.list_stores()] == ["default", "archive"]
        assert cat.stores.store_rules() == [StoreRule("archive", "Image", None)]
        assert cat.fsck().ok
