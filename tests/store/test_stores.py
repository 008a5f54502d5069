"""Several object stores per catalog: adding stores, routing rules applied at upload,
reads from whichever store holds an object, moving objects between stores (never a
moment where a row names an object no store holds), fsck over every store, and every
bad input refused with a clear error that changes nothing."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from assetry import (
    Catalog,
    ConfigError,
    ConflictError,
    ExecutionConfiguration,
    NotFoundError,
    StoreError,
    ValidationError,
)
from assetry.records.stores import StoreEntry, StoreRule, parse_size
from assetry.store import storeset
from assetry.store.local import LocalStore
from assetry.store.storeset import StoreSet
from tests.conftest import NewCatalog


def upload(
    cat: Catalog, table: str, files: dict[str, bytes], asset_types: list[str] | None = None
) -> dict[str, dict]:
    """Upload ``files`` (name -> bytes) to ``table`` through one execution."""
    wf = cat.create_workflow("stores", "Training", url="https://x/y.py", checksum="sha256:1")
    exe = cat.create_execution(ExecutionConfiguration(workflow=wf))
    for name, data in files.items():
        exe.asset_file_path(table, name, asset_types=asset_types).write_bytes(data)
    return {a["Filename"]: a for a in exe.upload_execution_outputs()[table]}


def store_set(cat: Catalog) -> StoreSet:
    found = cat._context.store()
    assert isinstance(found, StoreSet)
    return found


def keys(store: object) -> set[str]:
    assert isinstance(store, LocalStore)
    return {info.sha256 for info in store.iter_objects()}


@pytest.fixture
def cat(new_catalog: NewCatalog, tmp_path: Path) -> Catalog:
    cat = new_catalog(tmp_path / "catalog")
    cat.create_asset("Image")
    cat.create_asset("Checkpoint")
    return cat


def test_a_new_catalog_has_its_default_store(cat: Catalog) -> None:
    assert cat.list_stores() == [StoreEntry("default", "objects", True)]
    assert cat.stores.store_rules() == []


def test_rules_route_uploads_and_reads_find_every_object(cat: Catalog, tmp_path: Path) -> None:
    archive = cat.add_store("archive", str(tmp_path / "archive"))
    assert archive == StoreEntry("archive", str(tmp_path / "archive"), False)
    assert [s.name for s in cat.list_stores()] == ["default", "archive"]
    # An Asset_Type term (DerivaML's Model_File) and a size.
    cat.set_store_rule(table="model_file", store="archive")
    rules = cat.set_store_rule(store="archive", size_over="1KB")
    assert rules == [StoreRule("archive", "Model_File", None), StoreRule("archive", None, 1000)]

    images = upload(cat, "Image", {"small.png": b"small", "big.png": os.urandom(5000)})
    models = upload(cat, "Checkpoint", {"w.bin": b"weights"}, asset_types=["Model_File"])
    plain = upload(cat, "Checkpoint", {"c.bin": b"a checkpoint"})["c.bin"]
    stores = store_set(cat)
    default, kept = keys(stores.member("default")), keys(stores.member("archive"))
    assert images["small.png"]["SHA256"] in default
    assert images["big.png"]["SHA256"] in kept  # over 1 KB
    assert models["w.bin"]["SHA256"] in kept  # its table's rule
    assert images["big.png"]["SHA256"] not in default
    assert plain["SHA256"] in default

    for asset in (*images.values(), *models.values(), plain):
        got = cat.download_asset(asset["RID"], tmp_path / "down" / asset["Filename"])
        assert got.stat().st_size == asset["Length"]
    report = cat.fsck()
    assert report.ok and report.objects == len(default | kept)

    # fsck looks in every store: an object gone from the archive is missing.
    stores.member("archive").delete(models["w.bin"]["SHA256"])
    assert [m["rid"] for m in cat.fsck().to_dict()["missing"]] == [models["w.bin"]["RID"]]


def test_the_default_store_takes_what_no_rule_routes(cat: Catalog, tmp_path: Path) -> None:
    cat.add_store("archive", str(tmp_path / "archive"))
    cat.stores.set_default_store("archive")
    assert [s.name for s in cat.list_stores() if s.default] == ["archive"]
    asset = upload(cat, "Image", {"a.png": b"to the archive"})["a.png"]
    assert asset["SHA256"] in keys(store_set(cat).member("archive"))
    assert cat.fsck().ok


def test_migrate_moves_objects_verified_and_reads_never_miss(cat: Catalog, tmp_path: Path) -> None:
    files = {f"img{i:02d}.bin": os.urandom(2000 + i) for i in range(40)}
    assets = upload(cat, "Image", files)
    cat.add_store("archive", str(tmp_path / "archive"))
    stores = store_set(cat)
    # A reader that opened the catalog before the move, and keeps reading during it.
    reader = Catalog(cat.location)
    failures: list[BaseException] = []
    done = threading.Event()

    def read_all() -> None:
        n = 0
        while not done.is_set() or n == 0:
            for asset in assets.values():
                try:
                    reader.download_asset(asset["RID"], tmp_path / "reader" / f"{n}-{asset['RID']}")
                except BaseException as err:
                    failures.append(err)
                    return
            n += 1

    thread = threading.Thread(target=read_all)
    thread.start()
    counts = cat.stores.migrate_objects(to="archive", source="default")
    done.set()
    thread.join()
    reader.close()
    assert failures == []
    everything = {a["SHA256"] for a in assets.values()}
    assert counts["moved"] >= len(everything)  # and the execution's environment record
    assert keys(stores.member("default")) == set()
    assert everything <= keys(stores.member("archive"))
    assert cat.fsck().ok

    # By the rules: Image objects back to the default store, and so is the environment
    # record (Execution_Metadata), which no rule sends elsewhere.
    cat.set_store_rule(table="Image", store="default")
    counts = cat.stores.migrate_objects()
    assert counts["moved"] == len(everything) + 1
    assert counts["bytes"] > sum(map(len, files.values()))
    assert everything <= keys(stores.member("default"))
    assert keys(stores.member("archive")) == set()
    assert cat.fsck().ok
    again = cat.stores.migrate_objects()
    assert again["moved"] == 0 and again["in_place"] == len(everything) + 1


def test_an_interrupted_move_is_finished_by_running_it_again(cat: Catalog, tmp_path: Path) -> None:
    asset = upload(cat, "Image", {"a.png": b"moved twice"})["a.png"]
    cat.add_store("archive", str(tmp_path / "archive"))
    stores = store_set(cat)
    # Copied, not yet deleted from its old store: both hold it.
    with stores.member("default").open_raw(asset["SHA256"]) as stream:
        stores.member("archive").put_stream(stream)
    counts = cat.stores.migrate_objects(to="archive", table="Image")
    assert counts["moved"] == 1
    assert asset["SHA256"] not in keys(stores.member("default"))
    assert cat.fsck().ok


def test_a_damaged_object_is_not_moved(cat: Catalog, tmp_path: Path) -> None:
    asset = upload(cat, "Image", {"a.png": b"precious"})["a.png"]
    cat.add_store("archive", str(tmp_path / "archive"))
    stores = store_set(cat)
    path = stores.member("default").local_path(asset["SHA256"])
    assert path is not None
    path.chmod(0o644)
    path.write_bytes(b"damaged!")
    with pytest.raises(StoreError, match="damaged"):
        cat.stores.migrate_objects(to="archive", table="Image")
    assert keys(stores.member("archive")) == set()
    assert path.read_bytes() == b"damaged!"  # left where it was, for fsck to report


def test_another_process_sees_a_new_store(
    cat: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storeset, "MISS_REFRESH_SECONDS", 0.0)  # as in the test above
    asset = upload(cat, "Image", {"a.png": b"will move"})["a.png"]
    other = Catalog(cat.location)
    other.download_asset(asset["RID"], tmp_path / "first")  # its stores are open
    cat.add_store("archive", str(tmp_path / "archive"))
    cat.stores.migrate_objects(to="archive")
    got = other.download_asset(asset["RID"], tmp_path / "second")
    assert got.read_bytes() == b"will move"
    other.close()


def test_removing_stores(cat: Catalog, tmp_path: Path) -> None:
    cat.add_store("archive", str(tmp_path / "archive"))
    cat.set_store_rule(table="Image", store="archive")
    upload(cat, "Image", {"a.png": b"archived"})
    with pytest.raises(ConflictError, match="created with"):
        cat.stores.remove_store("default")
    with pytest.raises(ConflictError, match="rules"):
        cat.stores.remove_store("archive")
    cat.stores.remove_store_rule(table="Image")
    with pytest.raises(ConflictError, match="holds objects"):
        cat.stores.remove_store("archive")
    cat.stores.set_default_store("archive")
    with pytest.raises(ConflictError, match="default store"):
        cat.stores.remove_store("archive")
    cat.stores.set_default_store("default")
    cat.stores.migrate_objects(to="default")
    cat.stores.remove_store("archive")
    assert [s.name for s in cat.list_stores()] == ["default"]
    assert cat.fsck().ok


def test_bad_stores_are_refused_and_nothing_is_recorded(cat: Catalog, tmp_path: Path) -> None:
    before = cat.list_stores()
    cases: list[tuple[str, str, type[Exception], str]] = [
        ("9lives", str(tmp_path / "x"), ValidationError, "store name"),
        ("a/b", str(tmp_path / "x"), ValidationError, "store name"),
        ("default", str(tmp_path / "x"), ConflictError, "already has a store"),
        ("DEFAULT", str(tmp_path / "x"), ConflictError, "already has a store"),
        ("ftp", "ftp://host/x", ConfigError, "unknown object store scheme 'ftp'"),
        ("s3bad", "s3:///nobucket", ConfigError, "bucket"),
        ("gsbad", "gs://b/p?colour=blue", ConfigError, "unknown GCS store options"),
    ]
    for name, url, error, message in cases:
        with pytest.raises(error, match=message):
            cat.add_store(name, url)
    # A store that does not take writes: a file where its folder would be.
    (tmp_path / "blocked").write_text("not a folder")
    with pytest.raises(StoreError):
        cat.add_store("blocked", str(tmp_path / "blocked"))
    cat.add_store("archive", str(tmp_path / "archive"))
    # One place, however it is written, is one store: moving objects between two names
    # of one folder would delete them.
    (tmp_path / "link").symlink_to(tmp_path / "archive")
    same = [
        str(tmp_path / "archive"),
        str(tmp_path / "archive") + "/",
        (tmp_path / "archive").as_uri(),
        str(tmp_path / "link"),
        str(tmp_path / "catalog" / "objects"),  # the default store's folder
    ]
    for url in same:
        with pytest.raises(ConflictError, match="keeps its objects"):
            cat.add_store("again", url)
    # A refused store leaves nothing behind, not even its folders.
    with pytest.raises(ConflictError, match="already has a store named 'archive'"):
        cat.add_store("ARCHIVE", str(tmp_path / "elsewhere"))
    assert not (tmp_path / "elsewhere").exists()
    assert cat.list_stores() == [*before, StoreEntry("archive", str(tmp_path / "archive"))]


def test_bad_rules_are_refused_and_the_rules_stay(cat: Catalog, tmp_path: Path) -> None:
    cat.add_store("archive", str(tmp_path / "archive"))
    cat.set_store_rule(table="Image", store="archive")
    before = cat.stores.store_rules()
    with pytest.raises(NotFoundError, match="no store named 'attic'"):
        cat.set_store_rule(table="Image", store="attic")
    with pytest.raises(NotFoundError, match="Nowhere"):
        cat.set_store_rule(table="Nowhere", store="archive")
    with pytest.raises(ValidationError, match="asset tables"):
        cat.set_store_rule(table="Asset_Type", store="archive")
    with pytest.raises(ValidationError, match="not a byte count"):
        cat.set_store_rule(store="archive", size_over="lots")
    with pytest.raises(ValidationError, match="negative"):
        cat.set_store_rule(store="archive", size_over=-1)
    with pytest.raises(ValidationError, match="needs a table, a size"):
        cat.set_store_rule(store="archive")
    with pytest.raises(ValidationError, match="needs store="):
        cat.set_store_rule(table="Image")
    with pytest.raises(NotFoundError, match="no store rule for objects of Checkpoint"):
        cat.stores.remove_store_rule(table="Checkpoint")
    with pytest.raises(NotFoundError, match="no store named"):
        cat.stores.set_default_store("attic")
    assert cat.stores.store_rules() == before
    # The same table and size again replaces that rule's store.
    cat.set_store_rule(table="image", store="default")
    assert cat.stores.store_rules() == [StoreRule("default", "Image", None)]


def test_bad_migrations_are_refused(cat: Catalog) -> None:
    with pytest.raises(ValidationError, match="no store named 'attic'"):
        cat.stores.migrate_objects(to="attic")
    with pytest.raises(ValidationError, match="same store"):
        cat.stores.migrate_objects(to="default", source="default")
    with pytest.raises(ValidationError, match="not an asset table"):
        cat.stores.migrate_objects(to="default", table="Asset_Type")


def test_sizes() -> None:
    assert parse_size("100MB") == 100_000_000
    assert parse_size("100kB") == 100_000  # SI's spelling
    assert parse_size("1.5 GiB") == 3 << 29
    assert parse_size("4096") == parse_size(4096) == 4096
    assert parse_size(None) is None
    for bad in ("", "MB", "12XB", True, 1.5, "-3", "100Mb", "100mb"):  # b: bits
        with pytest.raises(ValidationError):
            parse_size(bad)  # type: ignore[arg-type]
    for huge in ("99999999999999TB", 2**70):
        with pytest.raises(ValidationError, match="too large"):
            parse_size(huge)


def test_a_rule_is_removed_by_the_names_it_was_set_with(cat: Catalog, tmp_path: Path) -> None:
    cat.add_store("archive", str(tmp_path / "archive"))
    cat.set_store_rule(table="Image", store="archive")
    cat.set_store_rule(table="Model_File", store="archive")
    with pytest.raises(ValidationError, match="too large"):
        cat.set_store_rule(store="archive", size_over="99999999999999TB")
    assert cat.stores.remove_store_rule(table="image") == [StoreRule("archive", "Model_File", None)]
    assert cat.stores.remove_store_rule(table="model_file") == []


def test_two_names_of_one_place_never_lose_an_object(tmp_path: Path) -> None:
    """The last guard: a move between two stores in one place only verifies."""
    import io

    first, second = LocalStore(tmp_path / "objects"), LocalStore(tmp_path / "objects")
    key = first.put_stream(io.BytesIO(b"the only copy")).sha256
    assert storeset.same_place(first, second)
    storeset.move_object(first, second, key)
    assert keys(first) == keys(second) == {key}
    assert not storeset.same_place(first, LocalStore(tmp_path / "other"))


def test_objects_wanted_by_two_rules_stay_put(cat: Catalog, tmp_path: Path) -> None:
    """The same bytes in two tables that the rules send to different stores: migrating
    leaves them where one of the rules wants them, and again moves nothing."""
    cat.add_store("archive", str(tmp_path / "archive"))
    image = upload(cat, "Image", {"a.bin": b"shared bytes"})["a.bin"]
    upload(cat, "Checkpoint", {"b.bin": b"shared bytes"})
    cat.set_store_rule(table="Image", store="archive")
    first = cat.stores.migrate_objects()
    second = cat.stores.migrate_objects()
    assert first["moved"] == 0 and second["moved"] == 0
    assert image["SHA256"] in keys(store_set(cat).member("default"))
    cat.set_store_rule(table="Checkpoint", store="archive")
    assert cat.stores.migrate_objects()["moved"] == 1  # now both rules want the archive
    assert image["SHA256"] in keys(store_set(cat).member("archive"))
    assert cat.stores.migrate_objects()["moved"] == 0
    assert cat.fsck().ok


def test_captured_files_and_imported_bags_follow_the_rules(
    cat: Catalog, tmp_path: Path, new_catalog: NewCatalog
) -> None:
    from assetry import DatasetSpec

    cat.add_store("archive", str(tmp_path / "archive"))
    cat.set_store_rule(table="Image", store="archive")
    source = tmp_path / "scan.png"
    source.write_bytes(b"captured bytes")
    wf = cat.create_workflow("capture", "Training", url="https://x/y.py", checksum="sha256:2")
    with cat.create_execution(ExecutionConfiguration(workflow=wf)) as exe:
        assert exe.capture_file(source, asset_table="Image") is not None
    [asset] = exe.upload_execution_outputs()["Image"]
    stores = store_set(cat)
    assert asset["SHA256"] in keys(stores.member("archive"))
    assert asset["SHA256"] not in keys(stores.member("default"))

    # A bag imported into a catalog whose rule names an Asset_Type term of its assets.
    model = upload(cat, "Checkpoint", {"w.bin": b"weights"}, asset_types=["Model_File"])["w.bin"]
    cat.add_dataset_element_type("Checkpoint")
    ds = cat.create_dataset(description="routed")
    cat.add_dataset_members(ds, [model["RID"]])
    bag = cat.export_dataset_bag(DatasetSpec(ds), tmp_path / "bag")
    other = new_catalog(tmp_path / "other")
    other.add_store("attic", str(tmp_path / "attic"))
    other.set_store_rule(table="Model_File", store="attic")
    other.import_bag(bag)
    others = store_set(other)
    assert model["SHA256"] in keys(others.member("attic"))
    assert model["SHA256"] not in keys(others.member("default"))


def test_the_stores_list_their_objects_merged_in_key_order(cat: Catalog, tmp_path: Path) -> None:
    import io

    cat.add_store("archive", str(tmp_path / "archive"))
    stores = store_set(cat)
    default, archive = stores.member("default"), stores.member("archive")
    put = [
        (default if n % 2 else archive).put_stream(io.BytesIO(b"obj %d" % n)).sha256
        for n in range(10)
    ]
    both = archive.put_stream(io.BytesIO(b"obj 1")).sha256  # held by both while it moves
    assert both in put
    listed = [o.sha256 for o in stores.iter_objects()]
    assert listed == sorted(set(put))
    middle = sorted(put)[4]
    assert [o.sha256 for o in stores.iter_objects_after(middle)] == sorted(put)[5:]


def test_fsck_checks_every_copy_and_names_its_store(cat: Catalog, tmp_path: Path) -> None:
    """An object held by two stores (as while it is moved): a damaged copy is reported
    with the store that holds it, even when the other copy is sound."""
    asset = upload(cat, "Image", {"a.png": b"two copies"})["a.png"]
    cat.add_store("archive", str(tmp_path / "archive"))
    stores = store_set(cat)
    with stores.member("default").open_raw(asset["SHA256"]) as stream:
        stores.member("archive").put_stream(stream)
    assert cat.fsck().ok
    path = stores.member("archive").local_path(asset["SHA256"])
    assert path is not None
    path.chmod(0o644)
    path.write_bytes(b"damaged!!!")
    [corrupt] = cat.fsck().corrupt
    assert (corrupt["rid"], corrupt["store"]) == (asset["RID"], "archive")
