"""API.md §11 (server mode), as a user reads it: ``assetry serve`` and ``assetry token``
on the command line, roles, and a remote catalog behaving as an embedded one for the
§5-§8 workflows."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from assetry import (
    AuthenticationError,
    AuthError,
    Catalog,
    ColumnDef,
    DatasetBag,
    DatasetSpec,
    ExecutionConfiguration,
    PermissionDenied,
    RIDNotFound,
    StateError,
    TableDef,
    ValidationError,
)
from tests.conftest import RemoteServer, clone_sqlite

ASSETRY = str(Path(sys.executable).with_name("assetry"))


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ASSETRY, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Path]]:
    """``assetry serve --catalog DIR --host 127.0.0.1 --port P`` in a child process."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "client-cache"))
    monkeypatch.delenv("ASSETRY_TOKEN", raising=False)
    location = tmp_path / "served"
    clone_sqlite(sqlite_template, location).close()
    port = _free_port()
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115 - closed below
    child = subprocess.Popen(
        [ASSETRY, "serve", "--catalog", str(location), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                requests.get(url + "/openapi.json", timeout=1)
                break
            except requests.ConnectionError:
                if child.poll() is not None:
                    break
                time.sleep(0.05)
        else:
            pytest.fail("the server did not start")
        assert child.poll() is None, (tmp_path / "server.log").read_text()
        yield url, location
    finally:
        child.terminate()
        child.wait(20)
        log.close()


def _token(location: Path, role: str, user: str, *extra: str) -> dict[str, object]:
    done = _cli(
        "--catalog", str(location), "token", "create", "--role", role, "--user", user, *extra,
        "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert isinstance(doc, dict)
    return doc


def test_serve_and_token_commands_as_documented(
    served: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, location = served
    spec = requests.get(url + "/openapi.json", timeout=10)
    assert spec.status_code == 200 and "paths" in spec.json()

    admin = _token(location, "admin", "alice")
    secret = admin["token"]
    assert isinstance(secret, str) and secret
    reader = _token(location, "reader", "bob", "--expires-in", "30d")
    writer = _token(location, "writer", "carol")

    cat = Catalog(url, token=secret)
    cat.create_table(TableDef("Subject", column_defs=[ColumnDef("Name", "text")]))
    [rid] = cat.insert("Subject", [{"Name": "s1"}])
    row = cat.resolve_rid(rid).row
    assert row["RCB"] == "alice" and row["RMB"] == "alice"
    cat.close()
    # the token may come from $ASSETRY_TOKEN
    monkeypatch.setenv("ASSETRY_TOKEN", str(writer["token"]))
    with Catalog(url) as carol:
        wf = carol.create_workflow("w", workflow_type="Training", url="x", checksum="y")
        assert carol.resolve_rid(wf.rid).row["RCB"] == "carol"
    monkeypatch.delenv("ASSETRY_TOKEN")

    listed = _cli("--catalog", str(location), "token", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert secret not in listed.stdout and str(reader["token"]) not in listed.stdout
    assert "alice" in listed.stdout and "bob" in listed.stdout
    # tokens are stored hashed: the secret is nowhere in the catalog's files
    for f in location.rglob("*"):
        if f.is_file():
            assert secret.encode() not in f.read_bytes(), f

    bob = Catalog(url, token=str(reader["token"]))
    assert bob.resolve_rid(rid).row["Name"] == "s1"
    token_id = next(
        str(t["id"]) for t in json.loads(listed.stdout) if t.get("user") == "bob"
    )  # the handle `token list` shows
    revoked = _cli("--catalog", str(location), "token", "revoke", token_id)
    assert revoked.returncode == 0, revoked.stderr
    with pytest.raises(AuthenticationError):
        bob.resolve_rid(rid)
    bob.close()


def test_no_token_or_a_wrong_one_is_an_authentication_error(
    remote_server: RemoteServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ASSETRY_TOKEN", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    with pytest.raises(AuthenticationError) as err:
        Catalog(remote_server.url, token="ast_0000_not-a-real-token")
    assert isinstance(err.value, AuthError)
    with pytest.raises(AuthenticationError):
        Catalog(remote_server.url)


# --- roles -------------------------------------------------------------------------------------


def test_roles_nest_reader_writer_curator_admin(
    remote_server: RemoteServer, tmp_path: Path
) -> None:
    curator = remote_server.catalog("curator")
    curator.create_asset("Image", column_defs=[ColumnDef("Width", "int4")])
    curator.create_table(TableDef("Subject", column_defs=[ColumnDef("Name", "text")]))
    curator.create_vocabulary("Species")
    curator.add_term("Species", "mouse")
    curator.add_column("Subject", ColumnDef("Age", "int4"))
    curator.add_dataset_element_type("Image")

    writer = remote_server.catalog("writer")
    [subject] = writer.insert("Subject", [{"Name": "s"}])
    writer.update("Subject", [{"RID": subject, "Age": 3}])
    f = tmp_path / "a.png"
    f.write_bytes(b"pixels")
    [asset] = writer.upload_assets("Image", [f])
    assert asset["RCB"] == "writer-user"
    wf = writer.create_workflow("w", workflow_type="Training", url="x", checksum="y")
    with writer.create_execution(ExecutionConfiguration(workflow=wf)) as exe:
        exe.asset_file_path("Image", "out.png").write_bytes(b"out")
    exe.upload_execution_outputs()
    ds = writer.create_dataset(dataset_types=["Training"], description="d")
    writer.add_dataset_members(ds, [asset["RID"]])
    writer.increment_dataset_version(ds, "patch")
    for change in (
        lambda: writer.create_table(TableDef("T2", column_defs=[])),
        lambda: writer.create_vocabulary("Colour"),
        lambda: writer.add_term("Species", "rat"),
        lambda: writer.add_column("Subject", ColumnDef("Weight", "int4")),
        lambda: writer.add_dataset_element_type("Subject"),
        lambda: writer.upgrade(),
    ):
        with pytest.raises(PermissionDenied):
            change()

    reader = remote_server.catalog("reader")
    assert reader.resolve_rid(subject).row["Age"] == 3
    assert [a["RID"] for a in reader.list_assets("Image") if a["RID"] == asset["RID"]]
    bag = reader.download_dataset_bag(DatasetSpec(ds), dest=tmp_path / "bags")
    assert bag.asset_path(asset["RID"]).read_bytes() == b"pixels"
    assert reader.download_asset(asset["RID"], tmp_path / "dl").read_bytes() == b"pixels"
    for change in (
        lambda: reader.insert("Subject", [{"Name": "x"}]),
        lambda: reader.create_dataset(dataset_types=["Training"], description="r"),
        lambda: reader.upload_assets("Image", [f]),
        lambda: reader.create_workflow("r", workflow_type="Training", url="x", checksum="r"),
    ):
        with pytest.raises(PermissionDenied) as err:
            change()
        assert isinstance(err.value, AuthError)

    remote_server.catalog("admin").upgrade()
    for c in (curator, writer, reader):
        c.close()


def test_bag_import_needs_writer_for_rows_and_curator_for_new_tables(
    remote_server: RemoteServer, sqlite_template: Path, tmp_path: Path
) -> None:
    source = clone_sqlite(sqlite_template, tmp_path / "source")
    source.create_table(TableDef("Subject", column_defs=[ColumnDef("Name", "text")]))
    source.add_dataset_element_type("Subject")
    [s] = source.insert("Subject", [{"Name": "from elsewhere"}])
    ds = source.create_dataset(dataset_types=["Training"], description="d")
    source.add_dataset_members(ds, [s])
    bag = DatasetBag(source.export_dataset_bag(DatasetSpec(ds), dest=tmp_path / "bag"))
    source.close()

    writer = remote_server.catalog("writer")
    with pytest.raises(PermissionDenied):
        writer.import_bag(bag)  # would create Subject and Dataset_Subject
    curator = remote_server.catalog("curator")
    curator.import_bag(bag)
    assert curator.resolve_rid(s).row["Name"] == "from elsewhere"

    # now every table exists: a writer may import rows into them
    again = clone_sqlite(sqlite_template, tmp_path / "again")
    again.create_table(TableDef("Subject", column_defs=[ColumnDef("Name", "text")]))
    again.add_dataset_element_type("Subject")
    [s2] = again.insert("Subject", [{"Name": "second"}])
    ds2 = again.create_dataset(dataset_types=["Testing"], description="d2")
    again.add_dataset_members(ds2, [s2])
    bag2 = DatasetBag(again.export_dataset_bag(DatasetSpec(ds2), dest=tmp_path / "bag2"))
    again.close()
    writer.import_bag(bag2)
    assert writer.resolve_rid(s2).row["Name"] == "second"
    reader = remote_server.catalog("reader")
    with pytest.raises(PermissionDenied):
        reader.import_bag(bag2)
    for c in (writer, curator, reader):
        c.close()


# --- a remote catalog behaves as an embedded one ---------------------------------------------


def test_an_execution_round_trip_through_the_server(
    remote_catalog: Catalog, tmp_path: Path
) -> None:
    cat = remote_catalog
    cat.create_asset("Image", column_defs=[ColumnDef("Width", "int4")])
    cat.add_term("Asset_Type", "Segmentation_Mask", synonyms=["mask"])
    cat.add_dataset_element_type("Image")
    src = tmp_path / "in.png"
    src.write_bytes(b"input image")
    [inp] = cat.upload_assets("Image", [src])
    ds = cat.create_dataset(dataset_types=["Training"], description="d")
    version = cat.lookup_dataset(ds).add_dataset_members([inp["RID"]])
    wf = cat.create_workflow("train-unet", workflow_type="Training", description="...")
    cfg = ExecutionConfiguration(
        workflow=wf,
        datasets=[DatasetSpec(ds, version=version)],
        assets=[inp["RID"]],
        parameters={"lr": 0.1},
    )
    with cat.create_execution(cfg) as exe:
        assert exe.datasets[0].version == version
        [p] = exe.asset_paths["Image"]
        assert p.read_bytes() == b"input image"
        exe.asset_file_path("Image", "masks/m.png", asset_types=["mask"], Width=4).write_bytes(
            b"mask"
        )
        with pytest.raises(ValidationError):
            exe.asset_file_path("Image", "../escape.png")
        exe.update_status("Running", "epoch 1")
    [out] = exe.upload_execution_outputs(clean_folder=True)["Image"]
    assert out["Width"] == 4 and out["Asset_Type"] == ["Segmentation_Mask"]
    with pytest.raises(StateError):
        exe.update_status("Running")
    assert [e["RID"] for e in cat.list_executions(status="Completed", workflow=wf)] == [exe.rid]
    roles = {a["RID"]: a["Asset_Role"] for a in cat.list_execution_assets(exe.rid)}
    assert roles[inp["RID"]] == "Input" and roles[out["RID"]] == "Output"
    edges = set(cat.lineage(out["RID"], direction="upstream").edges)
    assert (exe.rid, out["RID"], "generated") in edges
    assert (exe.rid, ds, "used") in edges
    assert (inp["RID"], ds, "member_of") in edges
    assert cat.download_asset(out["RID"], tmp_path / "dl").read_bytes() == b"mask"
    with pytest.raises(RIDNotFound):
        cat.resolve_rid("ZZZZ-ZZZZ")


def test_bags_through_the_server(remote_catalog: Catalog, tmp_path: Path) -> None:
    cat = remote_catalog
    cat.create_asset("Image")
    cat.add_dataset_element_type("Image")
    src = tmp_path / "a.png"
    src.write_bytes(b"remote bytes")
    [asset] = cat.upload_assets("Image", [src])
    ds = cat.create_dataset(dataset_types=["Training"], description="d")
    v = cat.add_dataset_members(ds, [asset["RID"]])
    lazy = cat.download_dataset_bag(
        DatasetSpec(ds, version=v, materialize=False), dest=tmp_path / "lazy"
    )
    assert (lazy.path / "fetch.txt").is_file() and not lazy.is_complete
    lazy.materialize()
    assert lazy.is_complete
    lazy.validate()
    assert lazy.asset_path(asset["RID"]).read_bytes() == b"remote bytes"
    one = cat.export_dataset_bag(DatasetSpec(ds, version=v), dest=tmp_path / "1", archive="zip")
    two = cat.export_dataset_bag(DatasetSpec(ds, version=v), dest=tmp_path / "2", archive="zip")
    assert one.read_bytes() == two.read_bytes()
    assert os.path.getsize(one) > 0
