"""Who may change what, on every path (``catalog/policy.py``, ``catalog/stored.py``).

Each attack of the security review is made twice where it applies: through the Python
API of an embedded catalog (the local owner, who holds every role, still meets the rules
of system tables, built-in terms and asset rows) and as a raw HTTP call to the server's
generic operation with a token, which is what an attacker would send.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from assetry import (
    Catalog,
    ColumnDef,
    ConflictError,
    DatasetSpec,
    ExecutionConfiguration,
    PermissionDenied,
    ValidationError,
)
from assetry.sql.backend import SqlBackend
from tests.conftest import BuildServer, RemoteServer
from tests.helpers import stored_file, subject_image_model

# --- helpers -------------------------------------------------------------------------------


def op(server: RemoteServer, who: str, name: str, /, **arguments: Any) -> requests.Response:
    """A raw call of a generic operation, as an attacker with a token of role ``who``
    sends it."""
    return requests.post(
        f"{server.url}/api/v1/ops/{name}",
        json=arguments,
        headers={"Authorization": f"Bearer {server.tokens[who]}"},
        timeout=30,
    )


def refused(response: requests.Response, status: int, error: str, *words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["class"] == error, body
    for word in words:
        assert word in body["message"], body["message"]


def setup(cat: Catalog) -> dict[str, str]:
    """Species (with a term), Subject, Image, a dataset of one image at 0.2.0."""
    subject_image_model(
        cat, subject_columns=[ColumnDef("Name")], image_columns=[], element_types=["Image"]
    )
    [subject] = cat.insert("Subject", [{"Name": "S1", "Species": "mouse"}])
    [image] = cat.insert("Image", [{**stored_file(cat, b"image"), "Subject": subject}])
    ds = cat.create_dataset(["Training"])
    cat.add_dataset_members(ds, [image])
    return {"subject": subject, "image": image, "dataset": ds}


def row_of(cat: Catalog, table: str, **where: Any) -> dict[str, Any]:
    [row] = [r for r in cat.get_table_as_dict(table) if all(r[k] == v for k, v in where.items())]
    return row


@pytest.fixture
def served(built_server: BuildServer) -> tuple[RemoteServer, Catalog, dict[str, str]]:
    """A server whose catalog holds ``setup``'s rows, and the admin's client."""
    server, made = built_server(setup)
    return server, server.catalog("admin"), made


# --- vocabularies need curator ---------------------------------------------------------------


def test_a_writer_cannot_change_terms_through_the_generic_operations(served: Any) -> None:
    server, cat, _ = served
    refused(op(server, "writer", "insert", table="Species", rows=[{"Name": "Evil"}]),
            403, "PermissionDenied", "curator", "Species")  # fmt: skip
    term = row_of(cat, "Species", Name="Mus musculus")
    refused(op(server, "writer", "update", table="Species",
               rows=[{"RID": term["RID"], "Description": "x"}]),
            403, "PermissionDenied", "curator")  # fmt: skip
    refused(op(server, "writer", "delete", table="Species", rids=[term["RID"]]),
            403, "PermissionDenied", "curator")  # fmt: skip
    assert [t.name for t in cat.list_vocabulary_terms("Species")] == ["Mus musculus"]
    # a curator may, and so may the same call through the Python API
    assert op(server, "curator", "insert", table="Species", rows=[{"Name": "Rat"}]).ok
    writer = server.catalog("writer")
    with pytest.raises(PermissionDenied, match="curator"):
        writer.insert("Species", [{"Name": "Evil"}])
    with pytest.raises(PermissionDenied, match="curator"):
        writer.add_term("Species", "Evil")


def test_builtin_terms_never_change_on_any_path(served: Any, sqlite_catalog: Catalog) -> None:
    server, cat, _ = served
    for who in ("curator", "admin"):
        role = row_of(cat, "Asset_Role", Name="Input")
        refused(op(server, who, "update", table="Asset_Role",
                   rows=[{"RID": role["RID"], "Name": "Inputz"}]),
                422, "ValidationError", "built in")  # fmt: skip
        aborted = row_of(cat, "Execution_Status", Name="Aborted")
        refused(op(server, who, "delete", table="Execution_Status", rids=[aborted["RID"]]),
                422, "ValidationError", "built in")  # fmt: skip
    assert cat.lookup_term("Asset_Role", "Input").name == "Input"
    assert cat.lookup_term("Execution_Status", "Aborted").name == "Aborted"
    # the descriptions of built-in terms may change
    role = row_of(cat, "Asset_Role", Name="Input")
    assert op(server, "curator", "update", table="Asset_Role",
              rows=[{"RID": role["RID"], "Description": "read"}]).ok  # fmt: skip
    local = sqlite_catalog
    aborted = row_of(local, "Execution_Status", Name="Aborted")
    with pytest.raises(ValidationError, match="built in"):
        local.delete("Execution_Status", [aborted["RID"]])
    with pytest.raises(ValidationError, match="built in"):
        local.update("Execution_Status", [{"RID": aborted["RID"], "Name": "Gone"}])


# --- system tables are written by their own operations ---------------------------------------


def test_frozen_versions_cannot_be_forged(served: Any, sqlite_catalog: Catalog) -> None:
    server, cat, made = served
    ds = made["dataset"]
    before = cat.list_dataset_members(ds, version="0.2.0")
    v2 = row_of(cat, "Dataset_Version", Version="0.2.0")
    v1 = row_of(cat, "Dataset_Version", Version="0.1.0")
    for who in ("writer", "admin"):
        refused(op(server, who, "update", table="Dataset_Version",
                   rows=[{"RID": v2["RID"], "Snapshot": 1}]),
                403, "PermissionDenied", "Dataset_Version", "frozen")  # fmt: skip
        refused(op(server, who, "delete", table="Dataset_Version", rids=[v1["RID"]]),
                403, "PermissionDenied", "Dataset_Version")  # fmt: skip
        refused(op(server, who, "insert", table="Dataset_Version",
                   rows=[{"Dataset": ds, "Version": "9.9.9", "Snapshot": 1}]),
                403, "PermissionDenied", "Dataset_Version")  # fmt: skip
        refused(op(server, who, "insert", table="Dataset_Image",
                   rows=[{"Dataset": ds, "Image": made["image"]}]),
                403, "PermissionDenied", "add_dataset_members")  # fmt: skip
    assert cat.list_dataset_members(ds, version="0.2.0") == before
    assert [v.version for v in cat.dataset_history(ds)] == ["0.1.0", "0.2.0"]

    local = sqlite_catalog  # the embedded owner meets the same rule
    made = setup(local)
    v2 = row_of(local, "Dataset_Version", Version="0.2.0")
    with pytest.raises(PermissionDenied, match="frozen"):
        local.update("Dataset_Version", [{"RID": v2["RID"], "Snapshot": 1}])
    with pytest.raises(PermissionDenied, match="Dataset_Version"):
        local.insert("Dataset_Version", [{"Dataset": made["dataset"], "Version": "9.9.9"}])


def test_the_status_machine_cannot_be_skipped(served: Any, tmp_path: Path) -> None:
    server, cat, _ = served
    refused(op(server, "writer", "insert", table="Execution",
               rows=[{"Status": "Completed", "Upload_Status": "Uploaded"}]),
            403, "PermissionDenied", "Execution")  # fmt: skip
    refused(op(server, "writer", "create_execution",
               values={"Status": "Completed"}, inputs={}),
            422, "ValidationError", "'Status'")  # fmt: skip
    refused(op(server, "writer", "insert", table="Workflow", rows=[{"Name": "w"}]),
            403, "PermissionDenied", "create_workflow")  # fmt: skip
    writer = server.catalog("writer")
    wf = writer.create_workflow("train", "Training", url="u", checksum="c")
    assert writer.create_workflow("train", "Training", url="u", checksum="c").rid == wf.rid
    exe = writer.create_execution(ExecutionConfiguration(workflow=wf))
    refused(op(server, "writer", "update", table="Execution",
               rows=[{"RID": exe.rid, "Status": "Completed"}]),
            422, "ValidationError", "Status")  # fmt: skip
    refused(op(server, "writer", "update", table="Execution",
               rows=[{"RID": exe.rid, "Stop_Time": "2020-01-01T00:00:00+00:00"}]),
            422, "ValidationError", "Stop_Time")  # fmt: skip
    # descriptions are anyone's (writer up) to correct
    writer.update("Execution", [{"RID": exe.rid, "Description": "fixed"}])
    writer.update("Workflow", [{"RID": wf.rid, "Description": "fixed"}])
    assert cat.resolve_rid(exe.rid).row["Status"] == "Created"
    # removing an execution link is the curators' cleanup, never the writers'
    exe.asset_file_path("Image", "a.png").write_bytes(b"out")
    [asset] = exe.upload_execution_outputs()["Image"]
    link = row_of(cat, "Image_Execution", Image=asset["RID"])
    refused(op(server, "writer", "delete", table="Image_Execution", rids=[link["RID"]]),
            403, "PermissionDenied", "curator")  # fmt: skip
    refused(op(server, "writer", "update", table="Image_Execution",
               rows=[{"RID": link["RID"], "Asset_Role": "Input"}]),
            403, "PermissionDenied", "Image_Execution")  # fmt: skip
    assert op(server, "curator", "delete", table="Image_Execution", rids=[link["RID"]]).ok


# --- bag imports ----------------------------------------------------------------------------


def test_imports_add_columns_only_for_curators(served: Any) -> None:
    server, cat, _ = served
    doc = cat.model
    [subject] = [t for t in doc["tables"] if t["name"] == "Subject"]
    subject["columns"].append({"name": "Evil", "type": "text", "nullok": True})
    refused(op(server, "writer", "import_rows", model_doc=doc, tables={"Subject": []}),
            403, "PermissionDenied", "curator")  # fmt: skip
    assert "Evil" not in [c["name"] for c in row_columns(cat, "Subject")]
    assert op(server, "curator", "import_rows", model_doc=doc, tables={"Subject": []}).ok
    assert "Evil" in [c["name"] for c in row_columns(cat, "Subject")]


def row_columns(cat: Catalog, table: str) -> list[dict[str, Any]]:
    [found] = [t for t in cat.model["tables"] if t["name"] == table]
    columns: list[dict[str, Any]] = found["columns"]
    return columns


def test_imported_rows_keep_their_source_and_name_the_importer(
    served: Any, sqlite_catalog: Catalog, tmp_path: Path
) -> None:
    server, cat, _ = served
    source = sqlite_catalog
    made = setup(source)
    bag = source.export_dataset_bag(DatasetSpec(made["dataset"]), dest=tmp_path / "bag")
    writer = server.catalog("writer")
    writer.import_bag(bag)  # rows into tables this catalog has: a writer's to import
    imported = cat.resolve_rid(made["image"]).row
    assert imported["RCB"] == source.resolve_rid(made["image"]).row["RCB"] != "writer-user"
    first = cat.history(made["image"])[0]
    assert first["action"] == "import" and first["user"] == "writer-user"
    # a forged author in raw rows is kept as the row says, but history names the caller
    doc = cat.model
    forged = {
        "RID": "FAKE-1", "Name": "forged", "Species": None,
        "RCB": "alice", "RMB": "alice",
        "RCT": "2020-01-01T00:00:00+00:00", "RMT": "2020-01-01T00:00:00+00:00",
    }  # fmt: skip
    assert op(server, "writer", "import_rows", model_doc=doc, tables={"Subject": [forged]}).ok
    first = cat.history("FAKE-1")[0]
    assert first["action"] == "import" and first["user"] == "writer-user"


# --- asset rows name stored objects ---------------------------------------------------------


def forged_rows(cat: Catalog, subject: str) -> list[tuple[dict[str, Any], str]]:
    real = stored_file(cat, b"real bytes")
    absent = "ab" * 32
    return [
        ({**real, "URL": "file:///etc/passwd"}, "URL"),
        ({**real, "URL": f"/objects/{absent}", "SHA256": absent}, "no object"),
        ({**real, "MD5": "0" * 32}, "MD5"),
        ({**real, "Length": real["Length"] + 1}, "Length"),
        ({**real, "MD5": "NOT-HEX"}, "MD5"),
    ]


def test_asset_rows_must_name_stored_bytes(served: Any, sqlite_catalog: Catalog) -> None:
    server, cat, made = served
    for row, word in forged_rows(cat, made["subject"]):
        refused(op(server, "writer", "insert", table="Image", rows=[row]),
                422, "ValidationError", word)  # fmt: skip
    local = sqlite_catalog
    made = setup(local)
    for row, word in forged_rows(local, made["subject"]):
        with pytest.raises(ValidationError, match=word):
            local.insert("Image", [row])
    before = len(list(local.get_table_as_dict("Image")))
    assert before == 1  # nothing of the refused rows was stored


def test_uploads_and_ensure_asset_cannot_name_bytes_never_stored(served: Any) -> None:
    server, cat, _ = served
    writer = server.catalog("writer")
    wf = writer.create_workflow("w", "Training", url="u", checksum="c")
    exe = writer.create_execution(ExecutionConfiguration(workflow=wf))
    absent = "cd" * 32
    entry = {
        "staged_name": "x.png", "table": "Image", "filename": "x.png",
        "url": f"/objects/{absent}", "md5": "0" * 32, "sha256": absent, "length": 5,
    }  # fmt: skip
    refused(op(server, "writer", "record_outputs", execution=exe.rid, entries=[entry]),
            409, "StateError", "Pending")  # fmt: skip
    assert op(server, "writer", "set_status", execution=exe.rid, column="Upload_Status",
              new="Pending").ok  # fmt: skip
    refused(op(server, "writer", "record_outputs", execution=exe.rid, entries=[entry]),
            422, "ValidationError", "no object")  # fmt: skip
    refused(op(server, "writer", "ensure_asset", entry=entry), 422, "ValidationError", "no object")
    assert cat.list_assets("Image") != [] and all(
        a["SHA256"] != absent for a in cat.list_assets("Image")
    )


def test_an_object_stored_by_another_process_is_read_once_to_check_it(
    sqlite_catalog: Catalog,
) -> None:
    cat = sqlite_catalog
    setup(cat)
    other = Catalog(cat.location)  # another process: it did not store these bytes
    digests = other._context.store().put_stream(io.BytesIO(b"from elsewhere"))
    assert cat._context.store().witnessed(digests.sha256) is None
    row = {
        "URL": f"/objects/{digests.sha256}", "Length": digests.length,
        "MD5": digests.md5, "SHA256": digests.sha256,
    }  # fmt: skip
    [rid] = cat.insert("Image", [row])
    assert cat._context.store().witnessed(digests.sha256) == digests
    assert cat.resolve_rid(rid).row["MD5"] == digests.md5
    other.close()


def test_fsck_checks_every_row_not_each_object_once(sqlite_catalog: Catalog) -> None:
    cat = sqlite_catalog
    made = setup(cat)
    genuine = cat.resolve_rid(made["image"]).row
    assert cat.fsck().ok
    # A forged row written past every check, straight into the database (as a catalog
    # made before these checks could hold): same SHA-256, other MD5 and length.
    backend = cat._backend
    assert isinstance(backend, SqlBackend)
    with backend.session(write=True) as s:
        t = s.table("Image")
        s.conn.execute(
            sa.insert(t).values(
                RID="FORGED-1", RCT=s.now, RMT=s.now, RCB="x", RMB="x",
                _snapshot=s.snapshot(), URL=genuine["URL"], Length=genuine["Length"] + 7,
                MD5="0" * 32, SHA256=genuine["SHA256"],
            )
        )  # fmt: skip
    report = cat.fsck()
    assert not report.ok
    assert [c["rid"] for c in report.corrupt] == ["FORGED-1"]


# --- execution folders of remote catalogs ---------------------------------------------------


def test_remote_working_folders_are_per_server_and_cleaned(served: Any, tmp_path: Path) -> None:
    server, cat, _ = served
    wf = cat.create_workflow("w", "Training", url="u", checksum="c")
    exe = cat.create_execution(ExecutionConfiguration(workflow=wf))
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "assetry"
    host_port = server.url.split("://", 1)[1].replace(":", "_")
    assert exe.working_dir.is_relative_to(cache / host_port / cat.rid_prefix)
    exe.asset_file_path("Image", "a.png").write_bytes(b"a")
    exe.upload_execution_outputs(clean_folder=True)
    assert not exe.working_dir.exists()


def test_conflicting_terms_are_still_conflicts(sqlite_catalog: Catalog) -> None:
    cat = sqlite_catalog
    setup(cat)
    with pytest.raises(ConflictError):
        cat.add_term("Species", "mouse", exists_ok=False)


def test_imported_system_columns_are_checked(served: Any) -> None:
    server, cat, _ = served
    bad = {"RID": "BAD-1", "Name": "x", "RCT": "last tuesday", "RCB": 7}
    refused(op(server, "writer", "import_rows", model_doc=cat.model, tables={"Subject": [bad]}),
            422, "ValidationError", "RCT", "RCB")  # fmt: skip
    with pytest.raises(Exception, match="BAD-1"):
        cat.resolve_rid("BAD-1")


def test_links_only_by_a_running_execution_and_never_outputs(served: Any) -> None:
    server, cat, made = served
    writer = server.catalog("writer")
    wf = writer.create_workflow("w", "Training", url="u", checksum="c")
    with writer.create_execution(ExecutionConfiguration(workflow=wf)) as exe:
        exe.asset_file_path("Image", "made.png").write_bytes(b"made")
    exe.upload_execution_outputs()
    image = made["image"]
    refused(op(server, "writer", "link_assets", execution=exe.rid, links={"Image": [image]},
               role="Output"), 422, "ValidationError", "outputs")  # fmt: skip
    refused(op(server, "writer", "link_assets", execution=exe.rid, links={"Image": [image]},
               role="Input"), 409, "StateError", "Completed")  # fmt: skip
    refused(op(server, "writer", "link_datasets", execution=exe.rid,
               datasets=[[made["dataset"], "0.2.0"]]), 409, "StateError")  # fmt: skip
    assert exe.upload_status == "Uploaded"
    digests = stored_file(cat, b"late")
    entry = {
        "staged_name": "late.png", "table": "Image", "filename": "late.png",
        "url": digests["URL"], "md5": digests["MD5"], "sha256": digests["SHA256"],
        "length": digests["Length"],
    }  # fmt: skip
    refused(op(server, "writer", "record_outputs", execution=exe.rid, entries=[entry]),
            409, "StateError", "Uploaded")  # fmt: skip
    running = writer.create_execution(ExecutionConfiguration(workflow=wf))
    unknown_version = [[made["dataset"], "77.7.7"]]
    refused(op(server, "writer", "link_datasets", execution=running.rid, datasets=unknown_version),
            422, "ValidationError", "77.7.7")  # fmt: skip
    assert {a["RID"] for a in cat.list_execution_assets(exe.rid, role="Output")} == {
        a["RID"] for a in cat.list_assets("Image") if a["Filename"] == "made.png"
    }


def test_imports_cannot_forge_links_of_runs_and_datasets_here(served: Any) -> None:
    server, cat, made = served
    wf = cat.create_workflow("w", "Training", url="u", checksum="c")
    with cat.create_execution(ExecutionConfiguration(workflow=wf)) as exe:
        pass
    doc = cat.model
    forged_link = {"RID": "FORGE-L1", "Image": made["image"], "Execution": exe.rid,
                   "Asset_Role": "Output"}  # fmt: skip
    refused(op(server, "writer", "import_rows", model_doc=doc,
               tables={"Image_Execution": [forged_link]}),
            409, "ConflictError", "Image_Execution")  # fmt: skip
    member = {"RID": "FORGE-M1", "Dataset": made["dataset"], "Image": made["image"]}
    extra = cat.insert("Image", [stored_file(cat, b"extra")])[0]
    member["Image"] = extra
    refused(op(server, "writer", "import_rows", model_doc=doc,
               tables={"Dataset_Image": [member]}),
            409, "ConflictError", "new version")  # fmt: skip
    assert cat.list_execution_assets(exe.rid) == [] or all(
        a["Asset_Role"] == "Input" for a in cat.list_execution_assets(exe.rid)
    )
    assert extra not in {r["RID"] for r in cat.list_dataset_members(made["dataset"])["Image"]}


def test_digests_this_process_vouched_for_are_looked_at_again_later(
    sqlite_catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assetry.store import base

    cat = sqlite_catalog
    setup(cat)
    digests = cat._context.store().put_stream(io.BytesIO(b"stored, then removed elsewhere"))
    other = Catalog(cat.location)  # another process's fsck --repair, say
    other._context.store().delete(digests.sha256)
    other.close()
    monkeypatch.setattr(base, "WITNESS_TRUSTED_SECONDS", 0.0)
    row = {
        "URL": f"/objects/{digests.sha256}", "Length": digests.length,
        "MD5": digests.md5, "SHA256": digests.sha256,
    }  # fmt: skip
    with pytest.raises(ValidationError, match="no object"):
        cat.insert("Image", [row])
