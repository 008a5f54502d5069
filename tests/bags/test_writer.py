"""The bag writer and the reproducible archives, checked against bagit-python and bdbag."""

from __future__ import annotations

import datetime as dt
import errno
import gzip
import hashlib
import io
import json
import logging
import os
import shutil
import stat
import tarfile
import zipfile
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import bagit
import pytest

import assetry
from assetry import ChecksumMismatch, ConflictError, NotFoundError, ValidationError
from assetry.bags import writer
from assetry.bags.archive import archive_bag
from assetry.bags.csvcodec import dump_rows
from assetry.bags.writer import encode_path, write_bag
from assetry.records.bag import AssetFile, BagContent, TableRows
from assetry.store.local import LocalStore

CREATED = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
CREATED_NS = int(CREATED.timestamp()) * 10**9
TAG_FILES = {"bagit.txt", "bag-info.txt", "manifest-md5.txt", "manifest-sha256.txt"}


@pytest.fixture(autouse=True)
def _tools(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Quiet bagit and bdbag; bdbag writes its default configuration here, not in ~."""
    logging.getLogger("bagit").setLevel(logging.CRITICAL)
    logging.getLogger("bdbag").setLevel(logging.CRITICAL)
    monkeypatch.setenv("BDBAG_CONFIG_FILE", str(tmp_path_factory.getbasetemp() / "bdbag.json"))


class NoLocalFiles(LocalStore):
    """A store that, like S3, has no local files: the writer must download."""

    def local_path(self, sha256: str) -> Path | None:
        return None


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")


def asset(store: LocalStore, table: str, rid: str, filename: str, data: bytes) -> AssetFile:
    digests = store.put_stream(io.BytesIO(data))
    return AssetFile(table, rid, filename, digests.md5, digests.sha256, digests.length)


def make_content(store: LocalStore, **changes: object) -> BagContent:
    image_types = {"RID": "text", "Name": "text", "Meta": "json", "Taken": "timestamptz"}
    image_types["Good"] = "boolean"
    images = TableRows(
        ["RID", "Name", "Meta", "Taken", "Good"],
        image_types,
        [
            {"RID": "1-A", "Name": None, "Meta": {"b": 1, "a": [1, "x"]}, "Taken": CREATED},
            {"RID": "1-B", "Name": "", "Meta": None, "Taken": None, "Good": True},
            {"RID": "1-C", "Name": 'say "hi", twice\r\nok', "Good": False},
        ],
    )
    subjects = TableRows(["RID", "Age"], {"RID": "text", "Age": "int4"}, [{"RID": "2-A", "Age": 7}])
    content = BagContent(
        dataset="1-DS",
        version="0.2.0",
        snapshot=42,
        catalog="file:///catalogs/main",
        description="Training images\n\n  second line  ",
        created=CREATED,
        model={"tables": {"Image": {"columns": ["RID", "Name"]}, "Subject": {}}, "ä": 1},
        tables={"Subject": subjects, "Image": images},
        assets=[
            asset(store, "Image", "1-B", "scan 01 é.png", b"\x89PNG" + bytes(range(256)) * 20),
            asset(store, "Image", "1-A", "a.txt", b"hello\n"),
            asset(store, "Image", "1-C", "same.txt", b"hello\n"),  # the same stored object
            asset(store, "Image", "1-D", "empty", b""),
        ],
    )
    for name, value in changes.items():
        setattr(content, name, value)
    return content


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def manifest(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {line.split("  ", 1)[1]: line.split("  ", 1)[0] for line in lines}


def bag_info(root: Path) -> dict[str, str]:
    return dict(bagit._load_tag_file(str(root / "bag-info.txt")))


# --- layout and contents --------------------------------------------------------------------


def test_layout_and_contents(tmp_path: Path, store: LocalStore) -> None:
    content = make_content(store)
    bag = write_bag(content, tmp_path / "bag", store)
    files = files_of(bag)
    payload = {
        "data/schema.json",
        "data/Image.csv",
        "data/Subject.csv",
        "data/assets/Image/1-A/a.txt",
        "data/assets/Image/1-B/scan 01 é.png",
        "data/assets/Image/1-C/same.txt",
        "data/assets/Image/1-D/empty",
    }
    tags = TAG_FILES | {"tagmanifest-md5.txt", "tagmanifest-sha256.txt"}
    assert set(files) == payload | tags
    assert files["bagit.txt"] == b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    assert json.loads(files["data/schema.json"]) == content.model
    assert (
        files["data/schema.json"]
        == (json.dumps(content.model, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()
    )
    image = content.tables["Image"]
    csv = "".join(dump_rows(image.columns, image.types, image.rows)).encode("utf-8")
    assert files["data/Image.csv"] == csv
    assert files["data/Subject.csv"] == b"RID,Age\r\n2-A,7\r\n"
    for item in content.assets:
        expected = store.path_of(item.sha256).read_bytes()
        assert files[item.bag_path] == expected
    assert (bag / "data/assets/Image/1-A/a.txt").stat().st_mode & 0o777 == 0o644


def test_null_and_empty_string_differ_in_the_csv(tmp_path: Path, store: LocalStore) -> None:
    bag = write_bag(make_content(store), tmp_path / "bag", store)
    lines = (bag / "data/Image.csv").read_bytes().decode("utf-8").split("\r\n")
    assert lines[0] == "RID,Name,Meta,Taken,Good"
    assert lines[1] == '1-A,,"{""a"":[1,""x""],""b"":1}",2024-05-06T07:08:09Z,'  # NULL: nothing
    assert lines[2] == '1-B,"",,,true'  # the empty string: ""
    assert lines[3] == '1-C,"say ""hi"", twice'
    assert not (bag / "data/Image.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_bag_info(tmp_path: Path, store: LocalStore) -> None:
    bag = write_bag(make_content(store), tmp_path / "bag", store)
    payload = [p for p in (bag / "data").rglob("*") if p.is_file()]
    octets = sum(p.stat().st_size for p in payload)
    assert (bag / "bag-info.txt").read_text(encoding="utf-8") == (
        f"Bag-Software-Agent: assetry {assetry.__version__}\n"
        "Bagging-Date: 2024-05-06\n"
        "External-Identifier: 1-DS@0.2.0\n"
        "External-Description: Training images\n"
        "  second line\n"
        "Assetry-Dataset: 1-DS\n"
        "Assetry-Dataset-Version: 0.2.0\n"
        "Assetry-Snapshot: 42\n"
        "Assetry-Catalog: file:///catalogs/main\n"
        f"Payload-Oxum: {octets}.{len(payload)}\n"
    )
    assert bag_info(bag)["External-Description"].split() == ["Training", "images", "second", "line"]
    plain = write_bag(make_content(store, description=None), tmp_path / "plain", store)
    assert "External-Description" not in bag_info(plain)


def test_manifests_match_the_files(tmp_path: Path, store: LocalStore) -> None:
    bag = write_bag(make_content(store), tmp_path / "bag", store)
    payload = {p.relative_to(bag).as_posix() for p in (bag / "data").rglob("*") if p.is_file()}
    for algorithm in ("md5", "sha256"):
        listed = manifest(bag / f"manifest-{algorithm}.txt")
        assert set(listed) == payload
        for path, digest in listed.items():
            assert hashlib.new(algorithm, (bag / path).read_bytes()).hexdigest() == digest
        lines = (bag / f"manifest-{algorithm}.txt").read_text(encoding="utf-8").splitlines()
        assert lines == sorted(lines, key=lambda line: line.split("  ", 1)[1])
        tags = manifest(bag / f"tagmanifest-{algorithm}.txt")
        assert list(tags) == sorted(TAG_FILES)
        for path, digest in tags.items():
            assert hashlib.new(algorithm, (bag / path).read_bytes()).hexdigest() == digest


def test_every_mtime_is_the_version_date(tmp_path: Path, store: LocalStore) -> None:
    bag = write_bag(make_content(store), tmp_path / "bag", store)
    for path in [bag, *bag.rglob("*")]:
        assert path.stat().st_mtime_ns == CREATED_NS, path


# --- standard tools ---------------------------------------------------------------------------


@pytest.mark.parametrize("link", [False, True])
def test_validates_with_bagit_and_bdbag(tmp_path: Path, store: LocalStore, link: bool) -> None:
    from bdbag import bdbag_api

    bag = write_bag(make_content(store), tmp_path / "bag", store, link=link)
    bagit.Bag(str(bag)).validate()
    bagit.Bag(str(bag)).validate(fast=True)
    bdbag_api.validate_bag(str(bag), fast=False)
    bdbag_api.validate_bag(str(bag), fast=True)


def test_linked_files_share_the_store_inode_and_are_read_only(
    tmp_path: Path, store: LocalStore
) -> None:
    content = make_content(store)
    bag = write_bag(content, tmp_path / "bag", store, link=True)
    for item in content.assets:
        linked = (bag / item.bag_path).stat()
        stored = store.path_of(item.sha256).stat()
        assert (linked.st_ino, linked.st_dev) == (stored.st_ino, stored.st_dev)
        assert stat.S_IMODE(linked.st_mode) == 0o444
    # Everything else is the same as in a bag of copies.
    copies = files_of(write_bag(content, tmp_path / "copies", store))
    assert files_of(bag) == copies


def test_copy_and_link_fall_back_when_the_kernel_refuses(
    tmp_path: Path, store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = make_content(store)
    expected = files_of(write_bag(content, tmp_path / "plain", store))

    def refuse(*args: object) -> int:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    # copy_file_range and sendfile refused: plain reads and writes.
    monkeypatch.setattr(writer, "_COPY_STEPS", [refuse, refuse, *writer._COPY_STEPS[-1:]])
    assert files_of(write_bag(content, tmp_path / "reads", store)) == expected
    # No hard link across file systems: a copy, writable like any other.
    monkeypatch.setattr(writer.os, "link", refuse)
    linked = write_bag(content, tmp_path / "linked", store, link=True)
    assert files_of(linked) == expected
    path = linked / content.assets[0].bag_path
    assert path.stat().st_ino != store.path_of(content.assets[0].sha256).stat().st_ino
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_link_needs_a_local_store_and_materialize(tmp_path: Path, store: LocalStore) -> None:
    content = make_content(store)
    remote = NoLocalFiles(store.root)
    with pytest.raises(ValidationError, match="local object store"):
        write_bag(content, tmp_path / "bag", remote, link=True)
    with pytest.raises(ValidationError, match="materialize"):
        write_bag(content, tmp_path / "bag", store, materialize=False, link=True)
    assert os.listdir(tmp_path) == ["store"]


def test_store_without_local_files_downloads_and_verifies(
    tmp_path: Path, store: LocalStore
) -> None:
    content = make_content(store)
    remote = NoLocalFiles(store.root)
    bag = write_bag(content, tmp_path / "bag", remote)
    assert files_of(bag) == files_of(write_bag(content, tmp_path / "local", store))
    for item in content.assets:
        path = bag / item.bag_path
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        assert path.stat().st_mtime_ns == CREATED_NS
    bagit.Bag(str(bag)).validate()
    # A download is verified against the recorded MD5 (a local copy checks the length).
    wrong = content.assets[1]
    content.assets[1] = AssetFile(wrong.table, wrong.rid, wrong.filename, "0" * 32, wrong.sha256, 6)
    with pytest.raises(ChecksumMismatch, match="md5"):
        write_bag(content, tmp_path / "bad", remote)
    assert not (tmp_path / "bad").exists()


# --- fetch.txt -------------------------------------------------------------------------------


def test_unmaterialized_bag_lists_assets_in_fetch_txt(tmp_path: Path, store: LocalStore) -> None:
    from bdbag import bdbag_api, bdbagit

    content = make_content(store)
    bag = write_bag(content, tmp_path / "bag", store, materialize=False)
    assert not (bag / "data/assets").exists()
    ordered = sorted(content.assets, key=lambda a: a.bag_path)
    expected = [f"{store.fetch_url(a.sha256)} {a.length} {a.bag_path}" for a in ordered]
    assert (bag / "fetch.txt").read_text(encoding="utf-8").splitlines() == expected
    # The manifests and Payload-Oxum still cover the absent files ...
    assert {a.bag_path for a in content.assets} <= set(manifest(bag / "manifest-sha256.txt"))
    complete = write_bag(content, tmp_path / "complete", store)
    assert bag_info(bag)["Payload-Oxum"] == bag_info(complete)["Payload-Oxum"]
    assert "fetch.txt" in manifest(bag / "tagmanifest-md5.txt")
    # ... so no tool takes the bag for a complete one: bagit-python fails on Payload-Oxum
    # even for a completeness check, bdbag fails a full validation. bdbag's completeness
    # check accepts it: it counts fetch.txt entries as accounted for.
    assert not bagit.Bag(str(bag)).is_valid(completeness_only=True)
    with pytest.raises(bagit.BagValidationError, match="Payload-Oxum"):
        bagit.Bag(str(bag)).validate(completeness_only=True)
    with pytest.raises(bagit.BagValidationError):
        bdbag_api.validate_bag(str(bag), fast=False)
    bdbagit.BDBag(str(bag)).validate(completeness_only=True)
    # Fetching every line by its URL completes the bag.
    for line in (bag / "fetch.txt").read_text(encoding="utf-8").splitlines():
        url, length, path = line.split(" ", 2)
        target = bag / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(url2pathname(urlparse(url).path), target)
        assert target.stat().st_size == int(length)
    bagit.Bag(str(bag)).validate(completeness_only=True)
    bdbag_api.validate_bag(str(bag), fast=False)


def test_paths_are_percent_encoded(tmp_path: Path, store: LocalStore) -> None:
    odd = asset(store, "Image", "1-E", "50% of\nthe\rdata.txt", b"odd")
    content = make_content(store, assets=[odd])
    encoded = "data/assets/Image/1-E/50%25 of%0Athe%0Ddata.txt"
    assert encode_path(odd.bag_path) == encoded
    bag = write_bag(content, tmp_path / "bag", store, materialize=False)
    assert (bag / "fetch.txt").read_text(encoding="utf-8").endswith(f" 3 {encoded}\n")
    assert encoded in manifest(bag / "manifest-md5.txt")
    full = write_bag(content, tmp_path / "full", store)
    assert (full / odd.bag_path).read_bytes() == b"odd"
    assert encoded in manifest(full / "manifest-sha256.txt")


# --- reproducibility -----------------------------------------------------------------------------


def test_reexport_is_byte_identical(tmp_path: Path, store: LocalStore) -> None:
    first = write_bag(make_content(store), tmp_path / "one" / "bag", store)
    # Another export of the same version, from objects added in another order, with the
    # version's date as a naive UTC datetime.
    again = LocalStore(tmp_path / "other-store")
    content = make_content(again, created=CREATED.replace(tzinfo=None))
    content.assets.reverse()
    second = write_bag(content, tmp_path / "two" / "bag", again)
    assert files_of(first) == files_of(second)
    one = write_bag(make_content(store), tmp_path / "u1", store, materialize=False)
    two = write_bag(make_content(store), tmp_path / "u2", store, materialize=False)
    assert files_of(one) == files_of(two)


@pytest.mark.parametrize("fmt", ["zip", "tgz", "tar.gz", "tar"])
def test_archives_are_byte_identical(tmp_path: Path, store: LocalStore, fmt: str) -> None:
    content = make_content(store)
    first = write_bag(content, tmp_path / "one" / "bag", store)
    second = write_bag(content, tmp_path / "two" / "bag", store, link=True)
    a = archive_bag(first, fmt, mtime=CREATED)
    b = archive_bag(second, fmt, tmp_path / f"elsewhere.{fmt}", mtime=CREATED)
    assert a == tmp_path / "one" / f"bag.{fmt}"
    assert a.read_bytes() == b.read_bytes()
    # Without an explicit time the newest mtime is used: the version's date for copies.
    c = archive_bag(first, fmt, tmp_path / f"default.{fmt}")
    assert c.read_bytes() == a.read_bytes()
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".part")]


def test_zip_entries(tmp_path: Path, store: LocalStore) -> None:
    bag = write_bag(make_content(store), tmp_path / "bag", store, link=True)
    with zipfile.ZipFile(archive_bag(bag, "zip", mtime=CREATED)) as zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        assert names[0] == "bag/"
        assert all(n.startswith("bag/") for n in names)
        assert "bag/data/assets/Image/1-B/scan 01 é.png" in names
        for info in infos:
            assert info.date_time == (2024, 5, 6, 7, 8, 8)  # zip keeps even seconds
            mode = stat.S_IMODE(info.external_attr >> 16)
            assert mode == (0o755 if info.is_dir() else 0o644)  # read-only links too
            if not info.is_dir():
                assert info.compress_type == zipfile.ZIP_DEFLATED
        assert zf.read("bag/data/assets/Image/1-A/a.txt") == b"hello\n"
    old = archive_bag(bag, "zip", tmp_path / "old.zip", mtime=dt.datetime(1970, 1, 2))
    with zipfile.ZipFile(old) as zf:
        assert zf.infolist()[0].date_time == (1980, 1, 1, 0, 0, 0)


def test_tar_entries_and_gzip_header(tmp_path: Path, store: LocalStore) -> None:
    bag = write_bag(make_content(store), tmp_path / "bag", store)
    archive = archive_bag(bag, "tgz", mtime=CREATED)
    header = archive.read_bytes()[:10]
    assert header[3] & 0x08 == 0  # no file name
    assert header[4:8] == b"\0\0\0\0"  # no time
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        assert members[0].name == "bag" and members[0].isdir()
        names = [m.name for m in members]
        assert names.index("bag/data") < names.index("bag/data/Image.csv")
        for member in members:
            assert (member.uid, member.gid, member.uname, member.gname) == (0, 0, "", "")
            assert member.mtime == int(CREATED.timestamp())
            assert member.mode == (0o755 if member.isdir() else 0o644)
        extracted = tar.extractfile("bag/data/Subject.csv")
        assert extracted is not None and extracted.read() == b"RID,Age\r\n2-A,7\r\n"
    with gzip.open(archive) as stream:
        assert stream.read(3)


def test_archive_refuses_unknown_formats_and_existing_files(
    tmp_path: Path, store: LocalStore
) -> None:
    bag = write_bag(make_content(store), tmp_path / "bag", store)
    with pytest.raises(ValidationError, match="zip, tgz"):
        archive_bag(bag, "rar")
    with pytest.raises(ValidationError, match="inside the bag"):
        archive_bag(bag, "tgz", bag / "data" / "bag.tgz")
    (tmp_path / "bag.zip").write_bytes(b"mine")
    with pytest.raises(ConflictError):
        archive_bag(bag, "zip")
    assert (tmp_path / "bag.zip").read_bytes() == b"mine"


# --- refusals and failures -------------------------------------------------------------------


def test_existing_destination(tmp_path: Path, store: LocalStore) -> None:
    content = make_content(store)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("keep me")
    with pytest.raises(ConflictError, match="not empty"):
        write_bag(content, busy, store)
    assert os.listdir(busy) == ["notes.txt"]
    (tmp_path / "file").write_text("keep me too")
    with pytest.raises(ConflictError):
        write_bag(content, tmp_path / "file", store)
    assert (tmp_path / "file").read_text() == "keep me too"
    empty = tmp_path / "empty"
    empty.mkdir()
    write_bag(content, empty, store)
    bagit.Bag(str(empty)).validate()
    assert sorted(os.listdir(tmp_path)) == ["busy", "empty", "file", "store"]


@pytest.mark.parametrize("local", [True, False])
def test_failure_leaves_nothing_behind(
    tmp_path: Path, store: LocalStore, local: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer, "LOCAL_BATCH", 1)  # several tasks on the thread pool
    content = make_content(store)
    absent = hashlib.sha256(b"never stored").hexdigest()
    content.assets.append(AssetFile("Image", "1-Z", "gone.bin", "0" * 32, absent, 3))
    source = store if local else NoLocalFiles(store.root)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(NotFoundError):
        write_bag(content, out / "bag", source)
    assert os.listdir(out) == []


def test_wrong_length_is_refused(tmp_path: Path, store: LocalStore) -> None:
    content = make_content(store)
    item = content.assets[1]
    content.assets[1] = AssetFile(item.table, item.rid, item.filename, item.md5, item.sha256, 99)
    for link in (False, True):
        with pytest.raises(ChecksumMismatch, match="length"):
            write_bag(content, tmp_path / "bag", store, link=link)
        assert sorted(os.listdir(tmp_path)) == ["store"]


def test_invalid_content_is_refused_with_every_problem(tmp_path: Path, store: LocalStore) -> None:
    good = asset(store, "Image", "1-A", "a.txt", b"a")
    other = asset(store, "Image", "1-A", "a.txt", b"b")
    content = make_content(
        store,
        tables={"../evil": TableRows(["RID"], {}, [])},
        assets=[
            good,
            other,
            AssetFile("Image", "..", "x", good.md5, good.sha256, 1),
            AssetFile("Image", "1-B", "a/b", good.md5, good.sha256, 1),
            AssetFile("Image", "1-C", "ok", "nothex", good.sha256.upper(), 1),
        ],
    )
    with pytest.raises(ValidationError) as info:
        write_bag(content, tmp_path / "bag", store)
    assert len(info.value.problems) == 6, info.value.problems
    assert not (tmp_path / "bag").exists()


@pytest.mark.parametrize("link", [False, True])
def test_an_object_away_from_its_likely_place_is_found_by_the_store(
    tmp_path: Path, store: LocalStore, monkeypatch: pytest.MonkeyPatch, link: bool
) -> None:
    # The export opens where the object most likely is without looking first; when it is
    # not there (e.g. kept in another of the catalog's stores), the store finds it.
    monkeypatch.setattr(store, "likely_local_path", lambda sha256: tmp_path / "nowhere" / sha256)
    bag = write_bag(make_content(store), tmp_path / "bag", store, link=link)
    assert bagit.Bag(str(bag)).is_valid()
