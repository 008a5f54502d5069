"""User-style scenarios for API.md sections 0-4 and 9, and the DerivaML-compatibility
paragraph, written from the contract only: public names, signatures, keyword names,
return types, error classes and the text of errors.

Each test exercises one or a few sentences of API.md through ``from assetry import ...``.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import threading
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

import assetry
from assetry import (
    AssetryError,
    AuthenticationError,
    AuthError,
    BagChecksumMismatch,
    BagError,
    BuiltinType,
    BuiltinTypes,
    Catalog,
    ChecksumMismatch,
    ColumnDef,
    ColumnDefinition,
    ConfigError,
    ConflictError,
    Dataset,
    DatasetSpec,
    ExecutionConfiguration,
    IntegrityError,
    NotFoundError,
    PermissionDenied,
    ResolvedRID,
    RIDNotFound,
    SchemaVersionError,
    StateError,
    StoreError,
    TableDef,
    TableNotFound,
    Term,
    TermNotFound,
    ValidationError,
)
from tests.conftest import clone_sqlite
from tests.helpers import stored_file

# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plain_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plain") / "cat"
    Catalog.create(path).close()
    return path


@pytest.fixture(scope="module")
def example_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("example") / "cat"
    with Catalog.create(path) as c:
        define_example(c)
    return path


@pytest.fixture
def cat(plain_template: Path, tmp_path: Path) -> Iterator[Catalog]:
    """A new, empty catalog (a copy of a created one, given its own RID prefix as an
    independently created catalog has)."""
    c = clone_sqlite(plain_template, tmp_path / "cat")
    yield c
    c.close()


@pytest.fixture
def example(example_template: Path, tmp_path: Path) -> Iterator[Catalog]:
    """A new catalog holding the model of API.md section 2 (see ``define_example``)."""
    c = clone_sqlite(example_template, tmp_path / "cat")
    yield c
    c.close()


def define_example(cat: Catalog) -> None:
    """The model of API.md section 2, verbatim."""
    cat.create_vocabulary("Species", comment="species of a subject")
    cat.create_table(
        TableDef(
            "Subject",
            column_defs=[
                ColumnDef("Name", BuiltinType.text, nullok=False),
                ColumnDef("Age", BuiltinType.int4),
            ],
            referenced_tables=["Species"],
            comment="a subject",
        )
    )
    cat.create_asset(
        "Image",
        column_defs=[ColumnDef("Width", BuiltinType.int4)],
        referenced_tables=["Subject"],
        comment="an image",
    )
    cat.add_column("Image", ColumnDef("Height", BuiltinType.int4))


def table_doc(cat: Catalog, name: str) -> dict:
    return next(t for t in cat.model["tables"] if t["name"] == name)


def columns(cat: Catalog, name: str) -> dict[str, dict]:
    return {c["name"]: c for c in table_doc(cat, name)["columns"]}


def fks(cat: Catalog, name: str) -> dict[str, str]:
    return {fk["column"]: fk["table"] for fk in table_doc(cat, name)["foreign_keys"]}


def asset_row(cat: Catalog, rid_of_subject: str | None = None, **extra: object) -> dict:
    """An Image row naming bytes stored in ``cat`` (an asset row must, API.md §8)."""
    row: dict = stored_file(cat, b"x", "x.png")
    if rid_of_subject is not None:
        row["Subject"] = rid_of_subject
    row.update(extra)
    return row


# --- DerivaML compatibility paragraph ------------------------------------------------------


def test_older_derivaml_names_are_aliases() -> None:
    assert ColumnDefinition is ColumnDef
    assert BuiltinTypes is BuiltinType
    col = ColumnDefinition(name="W", type=BuiltinTypes.int4)
    assert isinstance(col, ColumnDef)


def test_derivaml_keyword_names(cat: Catalog) -> None:
    cat.create_vocabulary("Species")
    cat.create_table(table=TableDef(name="Subject", column_defs=[ColumnDef("Name")]))
    cat.create_asset(asset_name="Image", column_defs=[ColumnDefinition("Width", BuiltinTypes.int4)])
    term = cat.add_term(table="Species", term_name="mouse", description="Mus")
    assert cat.lookup_term(table="Species", term_name="MOUSE") == term
    assert [t.name for t in cat.list_vocabulary_terms(table="Species")] == ["mouse"]
    cat.add_synonym(table="Species", term_name="mouse", synonym="mus")
    cat.remove_synonym(table="Species", term_name="mouse", synonym="mus")
    cat.update_term(table="Species", term_name="mouse", description="house mouse")
    rid = cat.insert("Subject", [{"Name": "S1"}])[0]
    assert cat.resolve_rid(rid=rid).table == "Subject"
    assert cat.history(rid=rid)[0]["row"]["Name"] == "S1"
    cat.delete_term(table="Species", term_name="mouse")


def test_lookup_dataset_returns_a_dataset_object(cat: Catalog) -> None:
    cat.create_table(TableDef("Subject", column_defs=[ColumnDef("Name")]))
    cat.add_dataset_element_type("Subject")
    rids = cat.insert("Subject", [{"Name": "a"}, {"Name": "b"}])
    ds = cat.create_dataset(dataset_types=["Training"], description="d")
    dataset = cat.lookup_dataset(ds)
    assert isinstance(dataset, Dataset)
    dataset.add_dataset_members(rids)
    members = cat.list_dataset_members(ds)
    assert sorted(r["RID"] for r in members["Subject"]) == sorted(rids)


def test_download_dataset_bag_inside_an_execution(cat: Catalog) -> None:
    cat.create_table(TableDef("Subject", column_defs=[ColumnDef("Name")]))
    cat.add_dataset_element_type("Subject")
    ds = cat.create_dataset(dataset_types=["Training"], description="d")
    cat.add_dataset_members(ds, cat.insert("Subject", [{"Name": "a"}]))
    wf = cat.create_workflow("wf", workflow_type="Training", description="w")
    with cat.create_execution(ExecutionConfiguration(workflow=wf, description="e")) as exe:
        bag = exe.download_dataset_bag(DatasetSpec(ds))
        assert bag.list_dataset_members()["Subject"]
    used = cat.list_execution_assets(exe.rid, role="Input")
    assert isinstance(used, list)


def test_derivaml_file_asset_script_runs_unchanged(cat: Catalog, tmp_path: Path) -> None:
    """DerivaML's documented file-asset flow, with DerivaML's keyword names throughout."""
    ml = cat
    ml.create_asset(
        asset_name="Image",
        column_defs=[ColumnDefinition(name="Width", type=BuiltinTypes.int4)],
        comment="images",
    )
    ml.add_term(
        table="Asset_Type", term_name="Segmentation_Mask", description="mask", synonyms=["mask"]
    )
    ml.add_dataset_element_type("Image")
    (tmp_path / "in.png").write_bytes(b"input")
    source = ml.upload_assets("Image", [tmp_path / "in.png"])[0]
    ds = ml.create_dataset(dataset_types=["Training"], description="train", version="1.0.0")
    ml.lookup_dataset(ds).add_dataset_members([source["RID"]])
    version = ml.dataset_history(ds)[-1].version
    workflow = ml.create_workflow(name="seg", workflow_type="Training", description="segment")
    config = ExecutionConfiguration(
        workflow=workflow,
        datasets=[DatasetSpec(rid=ds, version=version)],
        assets=[source["RID"]],
        description="run",
        parameters={"lr": 1e-3},
    )
    with ml.create_execution(config) as exe:
        path = exe.asset_file_path(
            asset_name="Image", file_name="mask.png", asset_types=["mask"], Width=512
        )
        path.write_bytes(b"mask bytes")
    uploaded = exe.upload_execution_outputs()
    (mask,) = uploaded["Image"]
    assert (mask["Filename"], mask["Asset_Type"], mask["Width"]) == (
        "mask.png",
        ["Segmentation_Mask"],
        512,
    )
    pb = ml.pathBuilder()
    t = pb.schemas[ml.ml_schema].Image_Execution
    out = t.filter(t.Execution == exe.rid).filter(t.Asset_Role == "Output").entities().fetch()
    assert [r["Image"] for r in out] == [mask["RID"]]
    used = t.filter(t.Execution == exe.rid).filter(t.Asset_Role == "Input").entities().fetch()
    assert [r["Image"] for r in used] == [source["RID"]]


def test_path_builder_query_of_the_derivaml_form(example: Catalog, tmp_path: Path) -> None:
    files = []
    for name, data in (("a.png", b"aaa"), ("b.png", b"bbbb")):
        (tmp_path / name).write_bytes(data)
        files.append(tmp_path / name)
    assets = example.upload_assets("Image", files)
    exe_rid = example.list_asset_executions(assets[0]["RID"], role="Output")[0]["RID"]

    pb = example.pathBuilder()
    t = pb.schemas[example.ml_schema].Image_Execution
    rows = t.filter(t.Execution == exe_rid).filter(t.Asset_Role == "Output").entities().fetch()
    assert isinstance(rows, list) and all(isinstance(r, dict) for r in rows)
    assert sorted(r["Image"] for r in rows) == sorted(a["RID"] for a in assets)

    # Table names are unique across both schemas: either schema name finds any table.
    same = pb.schemas[example.domain_schema].tables["Image_Execution"]
    assert len(same.entities().fetch()) == len(rows)
    image = pb.schemas[example.ml_schema].tables["Image"]
    length = image.columns["Length"]
    assert [r["Filename"] for r in image.filter(length > 3).entities().fetch()] == ["b.png"]
    assert [r["Filename"] for r in image.filter(image.Length < 4).entities().fetch()] == ["a.png"]
    assert [r["Filename"] for r in image.filter(image.Filename != "a.png").entities().fetch()] == [
        "b.png"
    ]
    none = image.filter(image.Length > 3).filter(image.Length < 4).entities().fetch()
    assert none == []


def test_path_builder_unknown_names_are_assetry_errors(example: Catalog) -> None:
    pb = example.pathBuilder()
    with pytest.raises(TableNotFound, match="Nope"):
        pb.schemas[example.domain_schema].tables["Nope"]
    image = pb.schemas[example.domain_schema].Image
    with pytest.raises(AssetryError, match="Nope"):
        image.filter(image.columns["Nope"] == 1)
    with pytest.raises(ValidationError, match="Length"):
        image.filter(image.Length == "not a number").entities().fetch()


# --- 0. Words ------------------------------------------------------------------------------


def test_rids_are_url_safe_case_insensitive_and_resolve_to_one_row(example: Catalog) -> None:
    rid = example.insert("Subject", [{"Name": "S1"}])[0]
    assert all(ch.isalnum() or ch in "-_.~" for ch in rid)
    for spelling in (rid, rid.lower(), rid.upper()):
        found = example.resolve_rid(spelling)
        assert found.table == "Subject" and found.row["RID"] == rid
    assert example.history(rid.lower())[0]["row"]["RID"] == rid


def test_rids_differ_across_catalogs_and_copies_are_the_same_catalog(
    example: Catalog, tmp_path: Path
) -> None:
    rid = example.insert("Subject", [{"Name": "S1"}])[0]
    other = Catalog.create(tmp_path / "other")
    other.create_table(TableDef("Subject", column_defs=[ColumnDef("Name")]))
    other_rid = other.insert("Subject", [{"Name": "S1"}])[0]
    assert other_rid != rid
    other.close()
    example.close()
    shutil.copytree(tmp_path / "cat", tmp_path / "copy")
    with Catalog(tmp_path / "copy") as copy:
        assert copy.resolve_rid(rid).row["Name"] == "S1"


def test_system_columns_on_every_row(example: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASSETRY_USER", raising=False)
    rid = example.insert("Subject", [{"Name": "S1"}])[0]
    row = example.resolve_rid(rid).row
    assert {"RID", "RCT", "RMT", "RCB", "RMB"} <= set(row)
    assert row["RCB"] == row["RMB"] == getpass.getuser()
    assert row["RCT"] == row["RMT"]
    example.update("Subject", [{"RID": rid, "Age": 3}])
    changed = example.resolve_rid(rid).row
    assert changed["RMT"] > changed["RCT"] and changed["RCT"] == row["RCT"]
    for table in ("Subject", "Image", "Species", "Image_Execution", "Execution", "Asset_Type"):
        assert {"RID", "RCT", "RMT", "RCB", "RMB"} <= set(columns(example, table))


def test_snapshots_increase_and_reads_as_of_a_snapshot(example: Catalog) -> None:
    before = example.snapshot()
    rid = example.insert("Subject", [{"Name": "S1", "Age": 1}])[0]
    after_insert = example.snapshot()
    assert after_insert > before
    example.update("Subject", [{"RID": rid, "Age": 2}])
    after_update = example.snapshot()
    assert after_update > after_insert
    example.delete("Subject", [rid])
    assert example.snapshot() > after_update

    assert list(example.get_table_as_dict("Subject", as_of=before)) == []
    assert [r["Age"] for r in example.get_table_as_dict("Subject", as_of=after_insert)] == [1]
    frame = example.get_table_as_dataframe("Subject", as_of=after_update)
    assert frame["Age"].tolist() == [2]
    assert list(example.get_table_as_dict("Subject")) == []


def test_every_committed_change_gets_a_snapshot(cat: Catalog) -> None:
    seen = [cat.snapshot()]
    cat.create_table(TableDef("T", column_defs=[ColumnDef("A")]))
    seen.append(cat.snapshot())
    cat.add_column("T", ColumnDef("B"))
    seen.append(cat.snapshot())
    cat.create_vocabulary("V")
    seen.append(cat.snapshot())
    cat.add_term("V", "x")
    seen.append(cat.snapshot())
    cat.add_synonym("V", "x", "y")
    seen.append(cat.snapshot())
    assert seen == sorted(set(seen)), seen


def test_history_lists_who_when_what(example: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASSETRY_USER", raising=False)
    rid = example.insert("Subject", [{"Name": "S1", "Age": 1}])[0]
    example.update("Subject", [{"RID": rid, "Age": 2}])
    example.delete("Subject", [rid])
    versions = example.history(rid)
    assert isinstance(versions, list) and len(versions) == 3
    assert [v["row"]["Age"] for v in versions[:2]] == [1, 2]
    snapshots = [v["snapshot"] for v in versions]
    assert snapshots == sorted(snapshots)
    for v in versions:
        assert v["user"] == getpass.getuser()
        assert v["time"] is not None
    with pytest.raises(RIDNotFound, match=rid):
        example.resolve_rid(rid)


def test_asset_table_standard_columns(example: Catalog) -> None:
    cols = columns(example, "Image")
    expected = {
        "URL": False,
        "Filename": True,
        "Length": False,
        "MD5": False,
        "SHA256": False,
        "Description": True,
    }
    for name, nullok in expected.items():
        assert cols[name]["nullok"] is nullok, name
    assert cols["Length"]["type"] == "int8"
    assert cols["Description"]["type"] == "markdown"
    assert {"Width", "Height", "Subject"} <= set(cols)
    with pytest.raises(ValidationError) as err:
        example.insert("Image", [{"Filename": "x"}])
    text = str(err.value)
    for name in ("URL", "Length", "MD5", "SHA256"):
        assert name in text


def test_identical_bytes_are_separate_asset_records(example: Catalog, tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"same bytes")
    (tmp_path / "b.png").write_bytes(b"same bytes")
    first = example.upload_assets("Image", [tmp_path / "a.png"])[0]
    second = example.upload_assets("Image", [tmp_path / "b.png"])[0]
    assert first["RID"] != second["RID"]
    assert first["SHA256"] == second["SHA256"]
    assert example.resolve_rid(first["RID"]).row["Filename"] == "a.png"
    assert example.resolve_rid(second["RID"]).row["Filename"] == "b.png"


def test_vocabulary_columns_and_curie(tmp_path: Path) -> None:
    cat = Catalog.create(tmp_path / "new")  # the CURIE prefix is chosen at creation
    cat.create_vocabulary("Species")
    assert {"Name", "Description", "Synonyms", "ID", "URI"} <= set(columns(cat, "Species"))
    term = cat.add_term("Species", "mouse", synonyms=["mus"])
    prefix, _, rid = term.id.partition(":")
    assert rid == term.rid and prefix.lower() == cat.rid_prefix.lower()
    assert term.uri
    row = cat.resolve_rid(term.rid).row
    assert row["Synonyms"] == ["mus"] and row["ID"] == term.id and row["URI"] == term.uri
    with pytest.raises(ConflictError, match="mouse"):
        cat.add_term("Species", "MOUSE", exists_ok=False)
    cat.close()


# --- 1. Opening a catalog ------------------------------------------------------------------


def test_create_then_open_embedded(tmp_path: Path) -> None:
    cat = Catalog.create(tmp_path / "my-catalog")
    assert isinstance(cat, Catalog)
    assert (tmp_path / "my-catalog" / "objects").is_dir()
    cat.create_table(TableDef("T", column_defs=[ColumnDef("A")]))
    rid = cat.insert("T", [{"A": "x"}])[0]
    cat.close()
    with Catalog(tmp_path / "my-catalog") as again:
        assert again.resolve_rid(rid).row["A"] == "x"
    with Catalog(str(tmp_path / "my-catalog")) as again:
        assert again.resolve_rid(rid).table == "T"


def test_default_location_env_then_dot_assetry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Catalog.create(tmp_path / "envcat").close()
    monkeypatch.setenv("ASSETRY_CATALOG", str(tmp_path / "envcat"))
    with Catalog() as cat:
        assert Path(cat.store_location or "").resolve() == (tmp_path / "envcat/objects").resolve()
    monkeypatch.delenv("ASSETRY_CATALOG")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NotFoundError):
        Catalog()
    Catalog.create().close()
    assert (tmp_path / ".assetry").is_dir()
    with Catalog() as cat:
        assert cat.list_tables(kind="table") == []


def test_unknown_store_scheme_is_a_config_error_listing_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        Catalog.create(tmp_path / "c", store="ftp://bucket/prefix")
    assert "ftp" in str(err.value)
    assert "s3" in str(err.value) and "file" in str(err.value) and "gs://" in str(err.value)


def test_file_url_store(tmp_path: Path) -> None:
    with Catalog.create(tmp_path / "c", store=f"file://{tmp_path}/objs") as cat:
        cat.create_asset("Image")
        (tmp_path / "f.bin").write_bytes(b"x")
        asset = cat.upload_assets("Image", [tmp_path / "f.bin"])[0]
        assert cat.download_asset(asset["RID"], tmp_path / "out").read_bytes() == b"x"
    assert any((tmp_path / "objs").rglob("*"))


def test_s3_store_from_the_usual_aws_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto_server = pytest.importorskip("moto.server")
    import boto3

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
        boto3.client("s3").create_bucket(Bucket="bucket")
        with Catalog.create(tmp_path / "c", store="s3://bucket/prefix") as cat:
            cat.create_asset("Image")
            (tmp_path / "f.bin").write_bytes(b"bytes in s3")
            asset = cat.upload_assets("Image", [tmp_path / "f.bin"])[0]
        with Catalog(tmp_path / "c") as cat:
            path = cat.download_asset(asset["RID"], tmp_path / "out")
            assert path.read_bytes() == b"bytes in s3"
    finally:
        server.stop()


def test_unknown_location_scheme_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="mongodb"):
        Catalog("mongodb://host/db")


MISSING_EXTRA = """
import sys
sys.modules["{module}"] = None
from assetry import Catalog, ConfigError
try:
    {call}
except ConfigError as err:
    print(err)
"""


@pytest.mark.parametrize(
    ("module", "extra", "call"),
    [
        ("psycopg", "postgres", "Catalog('postgresql+psycopg://u@127.0.0.1:1/db')"),
        (
            "boto3",
            "s3",
            "c = Catalog.create(sys.argv[1], store='s3://bucket/prefix'); "
            "c.create_asset('Image'); open(sys.argv[1] + '.bin', 'wb').write(b'x'); "
            "c.upload_assets('Image', [sys.argv[1] + '.bin'])",
        ),
    ],
)
def test_missing_extra_names_the_install_command(
    module: str, extra: str, call: str, tmp_path: Path
) -> None:
    import subprocess
    import sys

    code = MISSING_EXTRA.format(module=module, call=call)
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "c")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "pip install" in done.stdout and f"assetry[{extra}]" in done.stdout


def _make_schema_older(directory: Path) -> None:
    """Roll the catalog's schema back one migration by hand, as an old assetry left it."""
    from assetry.sql import migrate
    from assetry.sql.engine import make_engine

    engine = make_engine(f"sqlite:///{directory / 'catalog.db'}")
    migrate.run(engine, "0006", downgrade=True)
    engine.dispose()


def test_older_schema_is_refused_naming_assetry_upgrade(tmp_path: Path) -> None:
    cat = Catalog.create(tmp_path / "c")
    cat.create_table(TableDef("T", column_defs=[ColumnDef("A")]))
    rid = cat.insert("T", [{"A": "x"}])[0]
    cat.close()
    _make_schema_older(tmp_path / "c")
    with pytest.raises(SchemaVersionError, match="assetry upgrade"):
        Catalog(tmp_path / "c")
    Catalog.upgrade(tmp_path / "c")
    with Catalog(tmp_path / "c") as cat:
        assert cat.resolve_rid(rid).row["A"] == "x"
        cat.upgrade()  # at head already: nothing to do, still fine


def test_a_moved_catalog_still_works(example: Catalog, tmp_path: Path) -> None:
    (tmp_path / "f.png").write_bytes(b"pixels")
    asset = example.upload_assets("Image", [tmp_path / "f.png"])[0]
    example.close()
    shutil.move(tmp_path / "cat", tmp_path / "elsewhere")
    with Catalog(tmp_path / "elsewhere") as moved:
        assert moved.resolve_rid(asset["RID"]).table == "Image"
        path = moved.download_asset(asset["RID"], tmp_path / "out")
        assert path.read_bytes() == b"pixels"


def test_close_and_context_manager(cat: Catalog, tmp_path: Path) -> None:
    with Catalog(tmp_path / "cat") as other:
        assert isinstance(other, Catalog)
        assert other.snapshot() == cat.snapshot()
    cat.close()


def test_a_catalog_shared_by_threads(cat: Catalog) -> None:
    cat.create_table(TableDef("T", column_defs=[ColumnDef("A")]))
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for j in range(5):
                cat.insert("T", [{"A": f"{i}-{j}"}])
                list(cat.get_table_as_dict("T"))
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert len(list(cat.get_table_as_dict("T"))) == 20


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_gets_fresh_connections(cat: Catalog) -> None:
    cat.create_table(TableDef("T", column_defs=[ColumnDef("A")]))
    cat.insert("T", [{"A": "parent"}])
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 1
        try:
            cat.insert("T", [{"A": "child"}])
            code = 0 if len(list(cat.get_table_as_dict("T"))) == 2 else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert sorted(r["A"] for r in cat.get_table_as_dict("T")) == ["child", "parent"]


@pytest.mark.postgres
def test_postgres_catalog_records_its_store(pg_databases, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = pg_databases.empty()
    store = tmp_path / "pg-objects"
    with Catalog.create(url, store=str(store)) as cat:
        cat.create_asset("Image")
        (tmp_path / "f.bin").write_bytes(b"pg bytes")
        asset = cat.upload_assets("Image", [tmp_path / "f.bin"])[0]
    with Catalog(url) as again:  # store location read from the catalog
        assert Path(again.store_location or "").resolve() == store.resolve()
        assert again.download_asset(asset["RID"], tmp_path / "out").read_bytes() == b"pg bytes"


def test_a_database_catalog_needs_a_store(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="store"):
        Catalog.create(f"sqlite:///{tmp_path / 'db.sqlite'}")


def test_remote_catalog_token_argument_env_and_credentials_file(
    remote_server,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ASSETRY_TOKEN", raising=False)
    monkeypatch.setenv("ASSETRY_CREDENTIALS", str(tmp_path / "none.json"))
    writer = remote_server.tokens["writer"]
    with Catalog(remote_server.url, token=writer) as cat:
        cat_rid = cat.create_dataset(description="by arg")
        assert cat.resolve_rid(cat_rid).row["RCB"] == "writer-user"

    monkeypatch.setenv("ASSETRY_TOKEN", remote_server.tokens["reader"])
    with Catalog(remote_server.url) as cat:
        assert cat.resolve_rid(cat_rid).table == "Dataset"
        with pytest.raises(PermissionDenied):
            cat.create_dataset(description="reader may not")

    monkeypatch.delenv("ASSETRY_TOKEN")
    creds = tmp_path / "credentials.json"
    creds.write_text(json.dumps({remote_server.url: writer}))
    monkeypatch.setenv("ASSETRY_CREDENTIALS", str(creds))
    with Catalog(remote_server.url) as cat:
        rid = cat.create_dataset(description="by file")
        assert cat.resolve_rid(rid).row["RMB"] == "writer-user"

    with pytest.raises(AuthenticationError):
        Catalog(remote_server.url, token="not-a-token")


# --- 2. Schema (model) ---------------------------------------------------------------------


def test_section_2_example_builds_the_model(example: Catalog) -> None:
    assert example.list_tables(kind="table") == ["Subject"]
    assert "Species" in example.list_tables(kind="vocabulary")
    assert "Image" in example.list_tables(kind="asset")
    assert {"Image_Asset_Type", "Image_Execution"} <= set(example.list_tables(kind="association"))
    assert {"Workflow", "Execution", "Dataset"} <= set(example.list_tables(kind="system"))
    every = example.list_tables()
    assert isinstance(every, list) and all(isinstance(n, str) for n in every)
    assert set(every) == set(example.list_tables(kind=None))
    subject = table_doc(example, "Subject")
    assert subject["kind"] == "table" and subject["comment"] == "a subject"
    assert columns(example, "Subject")["Name"]["nullok"] is False
    assert columns(example, "Image")["Height"]["type"] == "int4"
    with pytest.raises(ValidationError, match="bogus"):
        example.list_tables(kind="bogus")


def test_model_is_a_json_document_valid_against_the_packaged_schema(example: Catalog) -> None:
    import jsonschema

    doc = json.loads(json.dumps(example.model))
    assert doc == example.model
    shipped = [
        p
        for p in resources.files("assetry").rglob("*")  # type: ignore[attr-defined]
        if p.name.endswith(".json") and "model" in p.name
    ]
    assert shipped, "the model document's JSON Schema ships in the package"
    jsonschema.validate(doc, json.loads(shipped[0].read_text()))
    subject = table_doc(example, "Subject")
    assert {"name", "kind", "columns", "foreign_keys"} <= set(subject)
    assert any(fk["table"] == "Species" for fk in subject["foreign_keys"])


def test_apply_model_creates_and_is_idempotent(example: Catalog, tmp_path: Path) -> None:
    with Catalog.create(tmp_path / "other") as other:
        other.apply_model(example.model)
        assert set(other.list_tables()) == set(example.list_tables())
        assert other.lookup_term("Asset_Type", "Image").name == "Image"
        before = other.model
        other.apply_model(example.model)
        assert other.model["tables"] == before["tables"]


def test_apply_model_validates_the_document(cat: Catalog) -> None:
    with pytest.raises(ValidationError) as err:
        cat.apply_model({"tables": [{"name": "bad name", "kind": "table", "columns": []}]})
    assert "bad name" in str(err.value)
    with pytest.raises(ValidationError):
        cat.apply_model({"tables": 3})
    with pytest.raises(ValidationError, match="varchar"):
        cat.apply_model(
            {
                "tables": [
                    {"name": "T", "kind": "table", "columns": [{"name": "X", "type": "varchar"}]}
                ]
            }
        )


def test_columndef_and_tabledef_signatures() -> None:
    col = ColumnDef("A")
    assert (col.name, col.nullok, col.default, col.comment) == ("A", True, None, None)
    col = ColumnDef(name="A", type=BuiltinType.int8, nullok=False, default=3, comment="c")
    assert (col.name, col.type, col.nullok, col.default, col.comment) == (
        "A",
        BuiltinType.int8,
        False,
        3,
        "c",
    )
    table = TableDef("T")
    assert (table.column_defs, table.referenced_tables, table.comment) == ([], [], None)
    table = TableDef(name="T", column_defs=[col], referenced_tables=["X"], comment="c")
    assert table.column_defs == [col] and table.referenced_tables == ["X"]


BUILTIN_NAMES = [
    *("text", "markdown", "int2", "int4", "int8", "float4", "float8"),
    *("boolean", "date", "timestamp", "timestamptz", "json", "uri"),
]
DERIVAML_ALIASES = {
    "jsonb": "json",
    "longtext": "text",
    "ermrest_uri": "uri",
    "ermrest_curie": "text",
    "ermrest_rid": "text",
    "serial4": "int4",
}


def test_builtin_types_and_derivaml_aliases(cat: Catalog) -> None:
    for name in BUILTIN_NAMES:
        assert getattr(BuiltinType, name) is not None
    for alias, canonical in DERIVAML_ALIASES.items():
        assert getattr(BuiltinType, alias) == getattr(BuiltinType, canonical)
    cat.create_table(
        TableDef(
            "Typed",
            column_defs=[ColumnDef(f"C_{alias}", alias) for alias in DERIVAML_ALIASES]
            + [ColumnDef(f"D_{name}", getattr(BuiltinType, name)) for name in BUILTIN_NAMES],
        )
    )
    cols = columns(cat, "Typed")
    for alias, canonical in DERIVAML_ALIASES.items():
        assert cols[f"C_{alias}"]["type"] == canonical
    with pytest.raises(ValidationError, match="varchar"):
        ColumnDef("X", "varchar")


@pytest.mark.parametrize(
    ("type_", "good", "bad"),
    [
        ("int2", 5, 70000),
        ("int4", 5, "five"),
        ("int8", 2**40, 2**70),
        ("float4", 1.5, "x"),
        ("float8", 1.5, float("nan")),
        ("boolean", True, "yes"),
        ("date", "2024-01-02", "not a date"),
        ("timestamptz", "2024-01-02T03:04:05Z", "noon"),
        ("json", {"a": [1, None]}, object()),
        ("text", "hello", 5),
        ("markdown", "# hi", 5),
        ("uri", "https://example.org", 5),
    ],
)
def test_values_are_checked_on_insert(cat: Catalog, type_: str, good: object, bad: object) -> None:
    cat.create_table(TableDef("T", column_defs=[ColumnDef("V", type_)]))
    cat.insert("T", [{"V": good}])
    with pytest.raises(ValidationError, match="'V'"):
        cat.insert("T", [{"V": bad}])
    assert len(list(cat.get_table_as_dict("T"))) == 1


def test_every_problem_is_reported_at_once(example: Catalog) -> None:
    example.add_term("Species", "mouse")
    with pytest.raises(ValidationError) as err:
        example.insert(
            "Subject",
            [{"Name": None, "Age": "x"}, {"Name": "ok", "Species": "dog", "Bogus": 1}],
        )
    problems = err.value.problems
    assert isinstance(problems, list) and len(problems) == 4
    text = " ".join(problems)
    for word in ("Name", "Age", "dog", "Species", "Bogus"):
        assert word in text
    assert list(example.get_table_as_dict("Subject")) == []


def test_referenced_tables_adds_a_rid_column(example: Catalog) -> None:
    subject = example.insert("Subject", [{"Name": "S1"}])[0]
    image = example.insert("Image", [asset_row(example, subject.lower())])[0]
    assert example.resolve_rid(image).row["Subject"] == subject
    with pytest.raises(ValidationError, match="Subject"):
        example.insert("Image", [asset_row(example, "ZZZZ-1")])
    fk = next(f for f in table_doc(example, "Image")["foreign_keys"] if f["column"] == "Subject")
    assert fk["table"] == "Subject"


def test_vocabulary_reference_holds_the_canonical_name(example: Catalog) -> None:
    example.add_term("Species", "mouse", synonyms=["Mus musculus"])
    rids = example.insert(
        "Subject",
        [
            {"Name": "S1", "Species": "mouse"},
            {"Name": "S2", "Species": "mus MUSCULUS"},
            {"Name": "S3", "Species": "MOUSE"},
        ],
    )
    assert [example.resolve_rid(r).row["Species"] for r in rids] == ["mouse"] * 3
    example.update("Subject", [{"RID": rids[0], "Species": "Mus musculus"}])
    assert example.resolve_rid(rids[0]).row["Species"] == "mouse"
    with pytest.raises(ValidationError) as err:
        example.insert("Subject", [{"Name": "S4", "Species": "rat"}])
    assert "Species" in str(err.value) and "rat" in str(err.value)
    with pytest.raises(ValidationError, match="Species"):
        example.update("Subject", [{"RID": rids[0], "Species": "rat"}])


def test_creating_an_asset_table_creates_its_companions(example: Catalog) -> None:
    assert {"Image_Asset_Type", "Image_Execution"} <= set(example.list_tables())
    link = fks(example, "Image_Asset_Type")
    assert link == {"Image": "Image", "Asset_Type": "Asset_Type"}
    exe = fks(example, "Image_Execution")
    assert exe == {"Image": "Image", "Execution": "Execution", "Asset_Role": "Asset_Role"}
    term = example.lookup_term("Asset_Type", "Image")
    assert term.name == "Image"
    # Execution links carry provenance: only executions write them (API.md §11).
    with pytest.raises(PermissionDenied, match="Image_Execution"):
        example.insert("Image_Execution", [{"Asset_Role": "Input"}])


@pytest.mark.parametrize(
    "name",
    ["1abc", "_abc", "a-b", "a b", "é", "", "A" * 64, "A" * 60, "select", "Dataset", "dataset"],
)
def test_bad_table_names_are_validation_errors(cat: Catalog, name: str) -> None:
    with pytest.raises(ValidationError):
        cat.create_table(TableDef(name))
    with pytest.raises(ValidationError):
        cat.create_vocabulary(name)
    with pytest.raises(ValidationError):
        cat.create_asset(name)


def test_derived_names_must_fit_63_bytes(cat: Catalog) -> None:
    name = "A" * 53  # A..._Asset_Type would be 64 bytes
    with pytest.raises(ValidationError) as err:
        cat.create_asset(name)
    assert name in str(err.value) and "63" in str(err.value)
    assert name not in cat.list_tables()
    cat.create_table(TableDef("B" * 50))
    cat.add_dataset_element_type("B" * 50)  # usable as an element type too


def test_names_equal_ignoring_case_are_refused(example: Catalog) -> None:
    for make in (
        lambda: example.create_table(TableDef("subject")),
        lambda: example.create_vocabulary("SPECIES"),
        lambda: example.create_asset("image_execution"),
        lambda: example.create_table(TableDef("T", column_defs=[ColumnDef("X"), ColumnDef("x")])),
        lambda: example.add_column("Image", ColumnDef("width")),
        lambda: example.add_column("Image", ColumnDef("url")),
        lambda: example.add_column("Image", ColumnDef("rid")),
    ):
        with pytest.raises(ValidationError):
            make()


def test_bad_column_definitions_are_validation_errors(cat: Catalog) -> None:
    with pytest.raises(ValidationError) as err:
        cat.create_table(TableDef("T", column_defs=[ColumnDef("1x"), ColumnDef("a-b")]))
    assert "1x" in str(err.value) and "a-b" in str(err.value)
    with pytest.raises(ValidationError, match="Nope"):
        cat.create_table(TableDef("T2", referenced_tables=["Nope"]))
    with pytest.raises(ValidationError):
        cat.create_table(TableDef("T3", column_defs=[ColumnDef("RCT")]))
    with pytest.raises(TableNotFound):
        cat.add_column("Nope", ColumnDef("X"))
    cat.create_table(TableDef("T4", column_defs=[ColumnDef("A")]))
    cat.insert("T4", [{"A": "x"}])
    with pytest.raises(ValidationError, match="B"):
        cat.add_column("T4", ColumnDef("B", BuiltinType.int4, nullok=False))
    cat.add_column("T4", ColumnDef("C", BuiltinType.int4, nullok=False, default=5))
    assert [r["C"] for r in cat.get_table_as_dict("T4")] == [5]


def test_path_builder_sees_schema_changes(cat: Catalog, tmp_path: Path) -> None:
    with Catalog(tmp_path / "cat") as other:
        schema = other.pathBuilder().schemas[other.domain_schema]
        cat.create_table(TableDef("Late", column_defs=[ColumnDef("A")]))
        cat.insert("Late", [{"A": "x"}])
        assert [r["A"] for r in schema.Late.entities().fetch()] == ["x"]
        cat.add_column("Late", ColumnDef("B", BuiltinType.int4))
        cat.insert("Late", [{"A": "y", "B": 2}])
        late = other.pathBuilder().schemas[other.domain_schema].tables["Late"]
        assert [r["A"] for r in late.filter(late.B == 2).entities().fetch()] == ["y"]


def test_a_schema_change_is_seen_by_another_catalog_object(cat: Catalog, tmp_path: Path) -> None:
    with Catalog(tmp_path / "cat") as other:
        assert "Late" not in other.list_tables()
        cat.create_table(TableDef("Late", column_defs=[ColumnDef("A")]))
        assert other.insert("Late", [{"A": "x"}])
        cat.add_column("Late", ColumnDef("B", BuiltinType.int4))
        assert other.insert("Late", [{"A": "y", "B": 2}])
        assert "Late" in other.list_tables(kind="table")


# --- 3. Rows and queries -------------------------------------------------------------------


def test_section_3_example(example: Catalog) -> None:
    example.add_term("Species", "mouse")
    rids = example.insert("Subject", [{"Name": "S1", "Species": "mouse"}])
    assert isinstance(rids, list) and len(rids) == 1 and isinstance(rids[0], str)
    example.update("Subject", [{"RID": rids[0], "Age": 3}])
    found = example.resolve_rid(rids[0])
    assert isinstance(found, ResolvedRID)
    assert found.table == "Subject" and found.row["Age"] == 3 and found.row["Species"] == "mouse"
    image = example.insert("Image", [asset_row(example, rids[0], Width=512)])[0]
    frame = example.get_table_as_dataframe("Image", filters={"Subject": rids[0]}, as_of=None)
    assert isinstance(frame, pd.DataFrame)
    assert frame["RID"].tolist() == [image] and frame["Width"].tolist() == [512]
    with pytest.raises(ConflictError) as err:
        example.delete("Subject", rids)
    assert "Image" in str(err.value)
    example.delete("Image", [image])
    example.delete("Subject", rids)
    assert list(example.get_table_as_dict("Subject")) == []


def test_get_table_as_dict_streams_dicts_with_limit_and_offset(example: Catalog) -> None:
    rids = example.insert("Subject", [{"Name": f"S{i}"} for i in range(7)])
    rows = example.get_table_as_dict("Subject", limit=None, offset=0)
    assert isinstance(rows, Iterator)
    everything = list(rows)
    assert all(isinstance(r, dict) for r in everything)
    assert sorted(r["RID"] for r in everything) == sorted(rids)
    page = list(example.get_table_as_dict("Subject", limit=3, offset=2))
    assert [r["RID"] for r in page] == [r["RID"] for r in everything[2:5]]
    assert list(example.get_table_as_dict("Subject", limit=0)) == []
    with pytest.raises(ValidationError):
        list(example.get_table_as_dict("Subject", limit=-1))


def test_get_table_as_dataframe_of_an_empty_table_has_its_columns(example: Catalog) -> None:
    frame = example.get_table_as_dataframe("Subject")
    assert len(frame) == 0
    assert {"RID", "Name", "Age", "Species"} <= set(frame.columns)


def test_search_text_columns(example: Catalog) -> None:
    example.add_term("Species", "mouse")
    liver, other = example.insert(
        "Subject",
        [{"Name": "liver sample", "Species": "mouse"}, {"Name": "heart", "Species": "mouse"}],
    )
    hits = example.search("mouse liver", tables=None, limit=100)
    assert isinstance(hits, list)
    assert [h["RID"] for h in hits if h.get("Table") == "Subject"] == [liver]
    assert [h["RID"] for h in example.search("LIVER", tables=["Subject"])] == [liver]
    assert len(example.search("mouse", tables=["Subject"], limit=1)) == 1
    assert other in [h["RID"] for h in example.search("heart")]
    with pytest.raises(TableNotFound):
        example.search("x", tables=["Nope"])


def test_row_errors_name_what_was_wrong(example: Catalog) -> None:
    rid = example.insert("Subject", [{"Name": "S1"}])[0]
    with pytest.raises(TableNotFound, match="Nope"):
        example.insert("Nope", [{"A": 1}])
    with pytest.raises(TableNotFound, match="Nope"):
        list(example.get_table_as_dict("Nope"))
    with pytest.raises(TableNotFound, match="Nope"):
        example.get_table_as_dataframe("Nope")
    with pytest.raises(RIDNotFound, match="ZZZZ-1"):
        example.resolve_rid("ZZZZ-1")
    with pytest.raises(RIDNotFound, match="ZZZZ-1"):
        example.update("Subject", [{"RID": "ZZZZ-1", "Age": 1}])
    with pytest.raises(RIDNotFound, match="ZZZZ-1"):
        example.delete("Subject", ["ZZZZ-1"])
    with pytest.raises(RIDNotFound, match="ZZZZ-1"):
        example.history("ZZZZ-1")
    with pytest.raises(ValidationError, match="Bogus"):
        example.update("Subject", [{"RID": rid, "Bogus": 1}])
    with pytest.raises(ValidationError, match="RCB"):
        example.insert("Subject", [{"Name": "x", "RCB": "me"}])
    with pytest.raises(ValidationError, match="Bogus"):
        list(example.get_table_as_dict("Subject", filters={"Bogus": 1}))
    with pytest.raises(ValidationError):
        example.insert("Subject", {"Name": "not a list"})  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="snapshot"):
        list(example.get_table_as_dict("Subject", as_of=10**9))


def test_rows_referenced_by_rid_in_any_case(example: Catalog) -> None:
    subject = example.insert("Subject", [{"Name": "S1"}])[0]
    image = example.insert("Image", [asset_row(example, subject)])[0]
    lowered = subject.lower()
    assert len(list(example.get_table_as_dict("Image", filters={"Subject": lowered}))) == 1
    example.update("Subject", [{"RID": lowered, "Age": 9}])
    assert example.resolve_rid(subject).row["Age"] == 9
    example.delete("Image", [image.lower()])
    assert list(example.get_table_as_dict("Image")) == []


# --- 4. Vocabularies -----------------------------------------------------------------------


def test_section_4_example(cat: Catalog) -> None:
    term = cat.add_term(
        table="Asset_Type",
        term_name="Segmentation_Mask",
        description="a mask",
        synonyms=["mask"],
        exists_ok=True,
    )
    assert isinstance(term, Term)
    assert (term.name, term.description, term.synonyms) == ("Segmentation_Mask", "a mask", ["mask"])
    assert term.id and term.uri and term.rid
    positional = cat.add_term("Asset_Type", "Contour", "an outline", ["outline"], True)
    assert positional.synonyms == ["outline"]
    again = cat.add_term("Asset_Type", "segmentation_mask", exists_ok=True)
    assert again == term
    assert cat.lookup_term("Asset_Type", "MASK") == term
    assert cat.lookup_term("Asset_Type", "SEGMENTATION_MASK") == term
    terms = cat.list_vocabulary_terms("Asset_Type")
    assert isinstance(terms, list) and all(isinstance(t, Term) for t in terms)
    assert {"Segmentation_Mask", "Contour"} <= {t.name for t in terms}


def test_synonyms_add_remove_and_belong_to_one_term(cat: Catalog) -> None:
    cat.create_vocabulary("Species")
    cat.add_term("Species", "mouse", synonyms=["mus"])
    cat.add_term("Species", "rat")
    updated = cat.add_synonym("Species", "mouse", "Mus musculus")
    assert updated.synonyms == ["mus", "Mus musculus"]
    assert cat.lookup_term("Species", "mus musculus").name == "mouse"
    with pytest.raises(ConflictError, match="MUS"):
        cat.add_synonym("Species", "rat", "MUS")
    with pytest.raises(ConflictError):
        cat.add_synonym("Species", "rat", "Mouse")
    with pytest.raises(ConflictError):
        cat.add_term("Species", "vole", synonyms=["mus"])
    with pytest.raises(ConflictError):
        cat.update_term("Species", "rat", synonyms=["mus"])
    removed = cat.remove_synonym("Species", "mouse", "mus")
    assert removed.synonyms == ["Mus musculus"]
    with pytest.raises(TermNotFound):
        cat.lookup_term("Species", "mus")
    assert cat.add_synonym("Species", "rat", "mus").synonyms == ["mus"]


def test_update_and_delete_terms(example: Catalog) -> None:
    example.add_term("Species", "mouse", description="old", synonyms=["mus"])
    example.add_term("Species", "rat")
    changed = example.update_term("Species", "mouse", description="new")
    assert changed.description == "new" and changed.synonyms == ["mus"]
    assert example.lookup_term("Species", "mouse").description == "new"
    example.insert("Subject", [{"Name": "S1", "Species": "mus"}])
    with pytest.raises(ConflictError) as err:
        example.delete_term("Species", "mouse")
    assert "mouse" in str(err.value) and "Subject" in str(err.value)
    example.delete_term("Species", "rat")
    with pytest.raises(TermNotFound, match="rat"):
        example.lookup_term("Species", "rat")
    with pytest.raises(TermNotFound):
        example.delete_term("Species", "rat")


def test_vocabulary_errors(cat: Catalog) -> None:
    with pytest.raises(TermNotFound) as err:
        cat.lookup_term("Asset_Type", "No_Such_Term")
    assert "Asset_Type" in str(err.value) and "No_Such_Term" in str(err.value)
    with pytest.raises(TableNotFound, match="Nope"):
        cat.lookup_term("Nope", "x")
    with pytest.raises(TableNotFound, match="Nope"):
        cat.list_vocabulary_terms("Nope")
    with pytest.raises(ConflictError, match="Input"):
        cat.add_term("Asset_Role", "INPUT", exists_ok=False)
    with pytest.raises(ValidationError, match="Workflow"):
        cat.add_term("Workflow", "x")


BUILT_IN_VOCABULARIES = {
    "Asset_Role": {"Input", "Output"},
    "Execution_Status": {"Created", "Running", "Completed", "Failed", "Aborted"},
    "Upload_Status": {"Not_Started", "Pending", "Uploaded", "Failed"},
    "Workflow_Type": {
        "Training",
        "Testing",
        "Prediction",
        "Feature_Creation",
        "Visualization",
        "Analysis",
        "Ingest",
        "Data_Cleaning",
        "Dataset_Management",
        "Register",
    },
    "Dataset_Type": {
        "Complete",
        "File",
        "Directory",
        "Training",
        "Testing",
        "Validation",
        "Split",
        "Labeled",
        "Unlabeled",
    },
    "Asset_Type": {
        "Execution_Config",
        "Runtime_Env",
        "Execution_Metadata",
        "Execution_Asset",
        "Metrics_File",
        "Model_File",
        "Input_File",
        "Output_File",
        "Artifact_File",  # one term per asset table: the files of named artifacts
    },
}


def test_built_in_vocabularies_and_seeded_terms(cat: Catalog) -> None:
    for vocab, expected in BUILT_IN_VOCABULARIES.items():
        assert vocab in cat.list_tables(kind="vocabulary")
        assert {t.name for t in cat.list_vocabulary_terms(vocab)} == expected, vocab
    assert cat.lookup_term("Execution_Status", "stopped").name == "Completed"
    cat.create_asset("Image")
    names = {t.name for t in cat.list_vocabulary_terms("Asset_Type")}
    assert names == BUILT_IN_VOCABULARIES["Asset_Type"] | {"Image"}


# --- 9. Errors -----------------------------------------------------------------------------


def test_error_hierarchy_importable_from_both_places() -> None:
    from assetry import errors

    tree = {
        "ConfigError": "AssetryError",
        "SchemaVersionError": "AssetryError",
        "NotFoundError": "AssetryError",
        "TableNotFound": "NotFoundError",
        "RIDNotFound": "NotFoundError",
        "TermNotFound": "NotFoundError",
        "ValidationError": "AssetryError",
        "ConflictError": "AssetryError",
        "StateError": "AssetryError",
        "IntegrityError": "AssetryError",
        "ChecksumMismatch": "IntegrityError",
        "StoreError": "AssetryError",
        "BagError": "AssetryError",
        "BagChecksumMismatch": "BagError",
        "AuthError": "AssetryError",
        "AuthenticationError": "AuthError",
        "PermissionDenied": "AuthError",
    }
    for name, parent in tree.items():
        cls = getattr(errors, name)
        assert getattr(assetry, name) is cls
        assert issubclass(cls, getattr(errors, parent))
        assert issubclass(cls, errors.AssetryError)
    assert issubclass(BagChecksumMismatch, ChecksumMismatch)
    assert issubclass(BagChecksumMismatch, BagError)
    for cls in (StateError, StoreError, IntegrityError, AuthError):
        assert issubclass(cls, AssetryError)


def test_checksum_mismatch_and_validation_error_fields() -> None:
    err = ChecksumMismatch("a/b.png", "sha256", "aa", "bb")
    assert (err.path, err.algorithm, err.expected, err.found) == ("a/b.png", "sha256", "aa", "bb")
    bag = BagChecksumMismatch("data/x", "md5", "11", "22")
    assert isinstance(bag, ChecksumMismatch) and isinstance(bag, BagError)
    assert (bag.path, bag.algorithm, bag.expected, bag.found) == ("data/x", "md5", "11", "22")
    problems = ValidationError(["one", "two"])
    assert problems.problems == ["one", "two"]


def test_database_constraint_violations_are_conflict_or_validation_errors(example: Catalog) -> None:
    subject = example.insert("Subject", [{"Name": "S1"}])[0]
    example.insert("Image", [asset_row(example, subject)])
    with pytest.raises(ConflictError):
        example.delete("Subject", [subject])
    with pytest.raises(ValidationError):
        example.insert("Image", [asset_row(example, "NOPE-1")])
    with pytest.raises(ConflictError):
        example.add_term("Asset_Type", "Image", exists_ok=False)
    with pytest.raises(ValidationError):
        example.create_table(TableDef("Subject"))
    assert not issubclass(ConflictError, IntegrityError)
    assert not issubclass(ValidationError, IntegrityError)


def test_no_raw_database_errors_for_odd_input(example: Catalog) -> None:
    for bad in ("a\x00b", "\ud800"):
        with pytest.raises(ValidationError):
            example.insert("Subject", [{"Name": bad}])
    with pytest.raises(ValidationError):
        example.insert("Subject", [{"Name": "x", "Age": 2**40}])
    with pytest.raises(ValidationError):
        example.resolve_rid(5)  # type: ignore[arg-type]
    with pytest.raises(RIDNotFound):
        example.resolve_rid("x'; DROP TABLE Subject; --")
    with pytest.raises(ValidationError):
        example.search("")
    assert example.search("%_") == []
