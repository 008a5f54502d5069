"""DatasetBag on bags built by hand: tables, types, members, assets, archives, tampering."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import stat
import tarfile
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import bagit
import pandas as pd
import pytest

from assetry import (
    BagChecksumMismatch,
    BagError,
    BuiltinType,
    NotFoundError,
    RIDNotFound,
    TableNotFound,
)
from assetry.bags import extract
from assetry.bags.csvcodec import dump_rows
from assetry.bags.extract import open_bag_path
from assetry.bags.reader import DatasetBag

UTC = dt.UTC
SYSTEM = [("RID", "text")]


def _table(name: str, kind: str, columns: list[tuple[str, str]], fks: Iterable[str] = ()) -> dict:
    return {
        "name": name,
        "kind": kind,
        "columns": [{"name": c, "type": t} for c, t in SYSTEM + columns],
        "foreign_keys": [{"column": c, "table": c.replace("Nested_", "")} for c in fks],
    }


MODEL = {
    "format": 1,
    "tables": [
        _table("Dataset", "system", [("Description", "markdown"), ("Deleted", "boolean")]),
        _table("Dataset_Type", "vocabulary", [("Name", "text")]),
        _table(
            "Image",
            "asset",
            [
                ("URL", "text"),
                ("Filename", "text"),
                ("Length", "int8"),
                ("MD5", "text"),
                ("SHA256", "text"),
                ("Score", "float8"),
                ("Taken", "timestamptz"),
                ("Day", "date"),
                ("Meta", "jsonb"),
                ("Subject", "text"),
            ],
            fks=["Subject"],
        ),  # fmt: skip
        _table("Subject", "table", [("Name", "text"), ("Age", "int4"), ("Alive", "boolean")]),
        _table(
            "Dataset_Image",
            "association",
            [("Dataset", "text"), ("Image", "text")],
            fks=["Dataset", "Image"],
        ),  # fmt: skip
        _table(
            "Dataset_Subject",
            "association",
            [("Dataset", "text"), ("Subject", "text")],
            fks=["Dataset", "Subject"],
        ),  # fmt: skip
        _table(
            "Dataset_Dataset",
            "association",
            [("Dataset", "text"), ("Nested_Dataset", "text")],
            fks=["Dataset", "Nested_Dataset"],
        ),  # fmt: skip
        _table(
            "Dataset_Dataset_Type",
            "association",
            [("Dataset", "text"), ("Dataset_Type", "text")],
            fks=["Dataset", "Dataset_Type"],
        ),  # fmt: skip
    ],
}


def _digests(data: bytes) -> tuple[str, str]:
    return hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()


def image_bytes(n: int) -> bytes:
    return f"image {n} ".encode() * (n + 1)


def sample_tables(images: int = 3) -> dict[str, list[dict[str, Any]]]:
    """D1 holds images I1..I(n-1) and subject S1, and nests D2 (image In, subject S2)."""
    rows: dict[str, list[dict[str, Any]]] = {
        "Dataset": [
            {"RID": "T-D1", "Description": "top", "Deleted": False},
            {"RID": "T-D2", "Description": "nested", "Deleted": False},
        ],
        "Dataset_Type": [{"RID": "T-V1", "Name": "Training"}],
        "Subject": [
            {"RID": "T-S1", "Name": "", "Age": 41, "Alive": True},
            {"RID": "T-S2", "Name": None, "Age": None, "Alive": None},
        ],
        "Image": [],
        "Dataset_Image": [],
        "Dataset_Subject": [
            {"RID": "T-L1", "Dataset": "T-D1", "Subject": "T-S1"},
            {"RID": "T-L2", "Dataset": "T-D2", "Subject": "T-S2"},
        ],
        "Dataset_Dataset": [{"RID": "T-N1", "Dataset": "T-D1", "Nested_Dataset": "T-D2"}],
        "Dataset_Dataset_Type": [{"RID": "T-Y1", "Dataset": "T-D1", "Dataset_Type": "Training"}],
    }
    for n in range(1, images + 1):
        md5, sha = _digests(image_bytes(n))
        rows["Image"].append(
            {
                "RID": f"T-I{n}", "URL": f"/objects/{sha}", "Filename": f"img{n}.png",
                "Length": len(image_bytes(n)), "MD5": md5, "SHA256": sha,
                "Score": n / 4 if n > 1 else None,
                "Taken": dt.datetime(2024, 5, 1, 12, n % 60, tzinfo=UTC) if n > 1 else None,
                "Day": dt.date(2024, 5, 1) + dt.timedelta(days=n),
                "Meta": {"n": n, "tags": ["a", "b"]},
                "Subject": "T-S1",
            }
        )  # fmt: skip
        dataset = "T-D1" if n < images else "T-D2"
        rows["Dataset_Image"].append({"RID": f"T-M{n}", "Dataset": dataset, "Image": f"T-I{n}"})
    return rows


def _encode(path: str) -> str:
    """A path as manifests and fetch.txt list it (RFC 8493: CR, LF and '%' encoded)."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _manifest(files: Mapping[str, bytes], algorithm: str) -> str:
    return "".join(
        f"{hashlib.new(algorithm, d).hexdigest()}  {_encode(p)}\n" for p, d in sorted(files.items())
    )


def write_bag(
    root: Path,
    payload: Mapping[str, bytes],
    info: Mapping[str, str] | None = None,
    fetch: Mapping[str, str] | None = None,
) -> Path:
    """A BagIt 1.0 bag of ``payload`` (bag path -> bytes); the ``fetch`` paths (bag path ->
    URL) are listed in fetch.txt and left out of data/."""
    fetch = fetch or {}
    root.mkdir(parents=True)
    for path, data in payload.items():
        if path not in fetch:
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_bytes(data)
    tags = {
        "bagit.txt": b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
        "bag-info.txt": "".join(
            f"{k}: {v}\n"
            for k, v in {
                **(info or {}),
                "Payload-Oxum": f"{sum(map(len, payload.values()))}.{len(payload)}",
            }.items()
        ).encode(),
    }
    for algorithm in ("md5", "sha256"):
        tags[f"manifest-{algorithm}.txt"] = _manifest(payload, algorithm).encode()
    if fetch:
        tags["fetch.txt"] = "".join(
            f"{url} {len(payload[p])} {_encode(p)}\n" for p, url in sorted(fetch.items())
        ).encode()
    for name, data in tags.items():
        (root / name).write_bytes(data)
    for algorithm in ("md5", "sha256"):
        (root / f"tagmanifest-{algorithm}.txt").write_text(_manifest(tags, algorithm))
    return root


def make_bag(
    root: Path,
    images: int = 3,
    holes: Iterable[int] = (),
    url_for: Any = None,
) -> Path:
    """An assetry dataset bag of dataset T-D1 with ``images`` images; images in ``holes``
    are left out and listed in fetch.txt with ``url_for(bag_path, data)`` (or a dead URL)."""
    tables = sample_tables(images)
    types = {
        c["name"]: BuiltinType.parse(c["type"]).value for t in MODEL["tables"] for c in t["columns"]
    }
    payload: dict[str, bytes] = {"data/schema.json": json.dumps(MODEL, indent=1).encode()}
    for name, found in tables.items():
        spec = next(t for t in MODEL["tables"] if t["name"] == name)
        columns = [c["name"] for c in spec["columns"]]
        payload[f"data/{name}.csv"] = "".join(dump_rows(columns, types, found)).encode()
    fetch = {}
    for n in range(1, images + 1):
        path = f"data/assets/Image/T-I{n}/img{n}.png"
        payload[path] = image_bytes(n)
        if n in holes:
            fetch[path] = url_for(path, image_bytes(n)) if url_for else f"http://127.0.0.1:9/{n}"
    info = {
        "Assetry-Dataset": "T-D1",
        "Assetry-Dataset-Version": "0.2.0",
        "Assetry-Snapshot": "17",
        "Assetry-Catalog": "test-catalog",
        "Bagging-Date": "2024-05-01",
    }
    return write_bag(root, payload, info, fetch)


@pytest.fixture
def bag_dir(tmp_path: Path) -> Path:
    return make_bag(tmp_path / "Dataset_T-D1_v0.2.0")


# --- reading ---------------------------------------------------------------------------


def test_info_model_and_tables(bag_dir: Path) -> None:
    bag = DatasetBag(bag_dir)
    assert bag.path == bag_dir
    assert (bag.dataset_rid, bag.version, bag.snapshot, bag.catalog) == (
        "T-D1", "0.2.0", 17, "test-catalog",
    )  # fmt: skip
    assert bag.info["Bagging-Date"] == "2024-05-01"
    assert [t["name"] for t in bag.model["tables"]][:2] == ["Dataset", "Dataset_Type"]
    assert bag.list_tables() == sorted(sample_tables())
    report = bag.validate()
    assert report.complete and report.warnings == [] and report.verified_files > 0
    bagit.Bag(str(bag_dir)).validate()  # the standard tool agrees the bag is valid


def test_rows_are_typed_and_null_is_not_empty(bag_dir: Path) -> None:
    bag = DatasetBag(bag_dir)
    s1, s2 = bag.get_table_as_dict("Subject")
    assert s1 == {"RID": "T-S1", "Name": "", "Age": 41, "Alive": True}
    assert s2 == {"RID": "T-S2", "Name": None, "Age": None, "Alive": None}
    first, second = bag.get_table_as_dict("Image")[:2]
    assert first["Length"] == len(image_bytes(1)) and first["Score"] is None
    assert second["Taken"] == dt.datetime(2024, 5, 1, 12, 2, tzinfo=UTC)
    assert second["Day"] == dt.date(2024, 5, 3) and second["Meta"] == {"n": 2, "tags": ["a", "b"]}


def test_dataframe_columns_and_dtypes(bag_dir: Path) -> None:
    bag = DatasetBag(bag_dir)
    subjects = bag.get_table_as_dataframe("Subject")
    assert list(subjects.columns) == ["RID", "Name", "Age", "Alive"]
    assert str(subjects["Age"].dtype) == "Int64" and str(subjects["Alive"].dtype) == "boolean"
    assert subjects["Name"][0] == "" and subjects["Name"][1] is pd.NA
    assert subjects["Age"][1] is pd.NA
    images = bag.get_table_as_dataframe("Image")
    # an asset table ends with the local path of each file
    assert list(images.columns) == [c["name"] for c in MODEL["tables"][2]["columns"]] + ["Path"]
    assert str(images["Path"].dtype) == "string"
    assert all(Path(p).is_file() and Path(p).is_absolute() for p in images["Path"])
    assert str(images["Length"].dtype) == "Int64" and str(images["Score"].dtype) == "Float64"
    assert str(images["Taken"].dtype) == "datetime64[us, UTC]" and pd.isna(images["Taken"][0])
    assert images["Meta"][1] == {"n": 2, "tags": ["a", "b"]}
    empty = DatasetBag(bag_dir).get_table_as_dataframe("Dataset_Type")
    assert len(empty) == 1 and str(empty["Name"].dtype) == "string"


@pytest.mark.parametrize("name", ["Nope", "../schema", "Dataset/..", "", "data/Subject"])
def test_unknown_table(bag_dir: Path, name: str) -> None:
    bag = DatasetBag(bag_dir)
    with pytest.raises(TableNotFound):
        bag.get_table_as_dict(name)
    with pytest.raises(TableNotFound):
        bag.get_table_as_dataframe(name)


def test_members_direct_and_recursive(bag_dir: Path) -> None:
    bag = DatasetBag(bag_dir)
    direct = bag.list_dataset_members()
    assert sorted(direct) == ["Dataset", "Image", "Subject"]  # not Dataset_Type
    assert [r["RID"] for r in direct["Image"]] == ["T-I1", "T-I2"]
    assert [r["RID"] for r in direct["Dataset"]] == ["T-D2"]
    assert direct["Subject"] == [{"RID": "T-S1", "Name": "", "Age": 41, "Alive": True}]
    nested = bag.list_dataset_members(recurse=True)
    assert [r["RID"] for r in nested["Image"]] == ["T-I1", "T-I2", "T-I3"]
    assert [r["RID"] for r in nested["Subject"]] == ["T-S1", "T-S2"]


def test_asset_path(bag_dir: Path) -> None:
    bag = DatasetBag(bag_dir)
    path = bag.asset_path("T-I2")
    assert path == bag_dir / "data/assets/Image/T-I2/img2.png"
    assert path.read_bytes() == image_bytes(2)
    assert bag.asset_path("t-i2") == path  # RIDs compare case-insensitively
    with pytest.raises(RIDNotFound):
        bag.asset_path("T-S1")  # a row, not an asset
    with pytest.raises(NotFoundError):
        bag.asset_path("T-NOPE")


def test_a_holey_bag_is_incomplete(tmp_path: Path) -> None:
    bag = DatasetBag(make_bag(tmp_path / "bag", holes=[2]))
    assert not bag.is_complete
    with pytest.raises(BagError, match=r"incomplete.*data/assets/Image/T-I2/img2.png"):
        bag.validate()
    report = bag.validate(allow_incomplete=True)
    assert report.pending == ["data/assets/Image/T-I2/img2.png"] and not report.complete
    with pytest.raises(BagError, match="materialize"):
        bag.asset_path("T-I2")
    assert bag.asset_path("T-I1").is_file()


def test_a_plain_bag_made_by_bagit_python(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.txt").write_text("hello")
    (folder / "Things.csv").write_text('RID,Name\r\nX-1,""\r\nX-2,\r\n')
    bagit.make_bag(str(folder), {"Contact-Name": "Someone"}, checksums=["sha256", "sha512"])
    bag = DatasetBag(folder)
    assert bag.validate().algorithms == ["sha256", "sha512"]
    assert bag.info["Contact-Name"] == "Someone" and bag.dataset_rid is None
    assert bag.get_table_as_dict("Things") == [
        {"RID": "X-1", "Name": ""}, {"RID": "X-2", "Name": None},
    ]  # fmt: skip
    with pytest.raises(BagError, match="not a dataset bag"):
        bag.list_dataset_members()
    with pytest.raises(BagError, match="schema.json"):
        _ = bag.model


def test_percent_encoded_names(tmp_path: Path) -> None:
    names = ["data/100% sure.txt", "data/two\nlines.txt", "data/%0A.txt"]
    root = write_bag(tmp_path / "bag", {n: n.encode() for n in names})
    assert "data/100%25 sure.txt" in (root / "manifest-md5.txt").read_text()
    bag = DatasetBag(root)
    assert bag.validate().payload_files == 3 and bag.is_complete


# --- tampering -------------------------------------------------------------------------


def test_tampered_payload_names_the_file(bag_dir: Path) -> None:
    target = bag_dir / "data/assets/Image/T-I1/img1.png"
    target.write_bytes(b"X" * target.stat().st_size)  # same size: Payload-Oxum still agrees
    bag = DatasetBag(bag_dir)
    bag.validate(fast=True)  # fast does not read the payload
    with pytest.raises(BagChecksumMismatch) as caught:
        bag.validate()
    err = caught.value
    assert err.path == "data/assets/Image/T-I1/img1.png" and err.algorithm in ("md5", "sha256")
    assert err.expected != err.found and "img1.png" in str(err)


def test_tampered_manifest_names_it(bag_dir: Path) -> None:
    manifest = bag_dir / "manifest-sha256.txt"
    manifest.write_text(manifest.read_text().replace("data/Subject.csv", "data/Subject.csX"))
    with pytest.raises(BagChecksumMismatch) as caught:
        DatasetBag(bag_dir).validate()
    assert caught.value.path == "manifest-sha256.txt"
    assert "data/Subject.csX is listed in manifest-sha256.txt but missing" in str(caught.value)
    assert "data/Subject.csv is in the payload but not listed in manifest-sha256.txt" in str(
        caught.value
    )


def test_every_problem_is_reported(bag_dir: Path) -> None:
    (bag_dir / "data/extra.txt").write_text("stowaway")
    (bag_dir / "data/Subject.csv").unlink()
    with pytest.raises(BagError) as caught:
        DatasetBag(bag_dir).validate(fast=True)
    message = str(caught.value)
    assert not isinstance(caught.value, BagChecksumMismatch)
    for part in ("data/extra.txt is in the payload but not listed", "data/Subject.csv is listed",
                 "Payload-Oxum"):  # fmt: skip
        assert part in message


def test_payload_symlink_out_of_the_bag_is_refused(bag_dir: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (bag_dir / "data/link.txt").symlink_to(secret)
    with pytest.raises(BagError, match="data/link.txt is a symbolic link out of the bag"):
        DatasetBag(bag_dir).validate()


def test_odd_files_are_problems_not_crashes(bag_dir: Path) -> None:
    os.mkfifo(bag_dir / "data/pipe")  # never opened: reading it would block
    (bag_dir / "data/loop").symlink_to(bag_dir / "data/loop")
    bagit_txt = bag_dir / "bagit.txt"
    bagit_txt.write_text(bagit_txt.read_text().replace("UTF-8", "hex"))
    with pytest.raises(BagError) as caught:
        DatasetBag(bag_dir).validate()
    message = str(caught.value)
    assert "data/pipe is not a regular file" in message
    assert "data/loop is a symbolic link out of the bag" in message
    assert "unknown Tag-File-Character-Encoding 'hex'" in message


def test_not_a_bag(tmp_path: Path) -> None:
    with pytest.raises(BagError, match="no such bag"):
        DatasetBag(tmp_path / "absent")
    (tmp_path / "folder").mkdir()
    with pytest.raises(BagError, match="bagit.txt is missing"):
        DatasetBag(tmp_path / "folder")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(BagError, match="neither a bag folder nor an archive"):
        DatasetBag(tmp_path / "notes.txt")
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(BagError, match="cannot extract"):
        DatasetBag(tmp_path / "broken.zip")


# --- archives --------------------------------------------------------------------------


def _zip_folder(folder: Path, target: Path, top: str | None) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder).as_posix()
            zf.write(path, f"{top}/{rel}" if top else rel)
    return target


@pytest.mark.parametrize("top", ["Dataset_T-D1_v0.2.0", None])
def test_zip_archive(bag_dir: Path, tmp_path: Path, top: str | None) -> None:
    archive = _zip_folder(bag_dir, tmp_path / "bag.zip", top)
    bag = DatasetBag(archive, work_dir=tmp_path / "work")
    assert bag.path.is_relative_to(tmp_path / "work") and bag.source == archive
    assert (bag.path.name == top) if top else (bag.path / "bagit.txt").exists()
    bag.validate()
    assert bag.asset_path("T-I3").read_bytes() == image_bytes(3)
    assert len(bag.list_dataset_members(recurse=True)["Image"]) == 3


def test_tgz_archive_next_to_itself(bag_dir: Path, tmp_path: Path) -> None:
    archive = tmp_path / "out" / "bag.tgz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(bag_dir, arcname=bag_dir.name)
    bag = DatasetBag(archive)
    assert bag.path.parent.parent == archive.parent  # a staging folder next to the archive
    assert bag.validate().complete
    assert bag.get_table_as_dict("Subject")[0]["Name"] == ""


def _tree(path: Path) -> set[str]:
    return {p.relative_to(path).as_posix() for p in path.rglob("*")}


def _assert_refused(tmp_path: Path, archive: Path, match: str) -> None:
    work = tmp_path / "work"
    before = _tree(tmp_path)
    with pytest.raises(BagError, match=match):
        open_bag_path(archive, work)
    assert _tree(work) == set()  # the staging folder is gone
    assert _tree(tmp_path) - before <= {"work"}
    assert not (tmp_path / "evil").exists() and not Path("/tmp/assetry-evil").exists()


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../evil", "climbs out"),
        ("bag/../../evil", "climbs out"),
        ("/tmp/assetry-evil", "absolute"),
        ("bag\\..\\..\\evil", "climbs out"),
        ("C:/evil", "drive letter"),
    ],
)
def test_zip_slip_is_refused(tmp_path: Path, name: str, reason: str) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("bag/bagit.txt", "BagIt-Version: 1.0\n")
        zf.writestr(name, "gotcha")
    _assert_refused(tmp_path, archive, f"{reason}")


def test_zip_symlink_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("bag/bagit.txt", "BagIt-Version: 1.0\n")
        link = zipfile.ZipInfo("bag/data/passwd")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    _assert_refused(tmp_path, archive, "'bag/data/passwd': it is a symbolic link")


def test_zip_entry_larger_than_declared_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bag/data/big", b"\0" * 100_000)
    raw = bytearray(archive.read_bytes())
    central = raw.rindex(b"PK\x01\x02")  # declare 10 bytes in the central directory
    raw[central + 24 : central + 28] = (10).to_bytes(4, "little")
    archive.write_bytes(bytes(raw))
    # zipfile stops at the declared size and then fails the CRC; either guard will do
    _assert_refused(tmp_path, archive, "more than the 10 bytes it declares|Bad CRC")


def test_extraction_stops_at_the_declared_size(tmp_path: Path) -> None:
    with pytest.raises(BagError, match="more than the 3 bytes it declares"):
        extract._write(tmp_path / "a.zip", io.BytesIO(b"12345"), tmp_path / "out", 3, "out")


def _tar_with(tmp_path: Path, member: tarfile.TarInfo, data: bytes = b"") -> Path:
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        ok = tarfile.TarInfo("bag/bagit.txt")
        ok.size = 5
        tf.addfile(ok, io.BytesIO(b"hello"))
        member.size = len(data) if member.isreg() else 0
        tf.addfile(member, io.BytesIO(data) if member.isreg() else None)
    return archive


@pytest.mark.parametrize(
    ("name", "kind", "reason"),
    [
        ("../evil", tarfile.REGTYPE, "climbs out"),
        ("/tmp/assetry-evil", tarfile.REGTYPE, "absolute"),
        ("bag/data/link", tarfile.SYMTYPE, "symbolic link"),
        ("bag/data/hard", tarfile.LNKTYPE, "hard link"),
        ("bag/data/fifo", tarfile.FIFOTYPE, "FIFO"),
        ("bag/data/dev", tarfile.CHRTYPE, "device"),
    ],
)
def test_tar_slip_and_special_members_are_refused(
    tmp_path: Path, name: str, kind: bytes, reason: str
) -> None:
    member = tarfile.TarInfo(name)
    member.type = kind
    member.linkname = "../../../etc/passwd" if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE) else ""
    _assert_refused(tmp_path, _tar_with(tmp_path, member, b"gotcha"), reason)


def test_absurd_archives_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for n in range(5):
            zf.writestr(f"bag/data/{n}", b"12345")
    monkeypatch.setattr(extract, "MAX_ENTRIES", 4)
    _assert_refused(tmp_path, archive, "more than 4 entries")
    monkeypatch.setattr(extract, "MAX_ENTRIES", 100)
    monkeypatch.setattr(extract, "MAX_TOTAL_BYTES", 20)
    _assert_refused(tmp_path, archive, "declares 25 bytes")
    member = tarfile.TarInfo("bag/data/big")
    _assert_refused(tmp_path, _tar_with(tmp_path, member, b"x" * 30), "declares 35 bytes")


def test_extracted_bag_is_only_under_work_dir(bag_dir: Path, tmp_path: Path) -> None:
    archive = _zip_folder(bag_dir, tmp_path / "bag.zip", "top")
    shutil.rmtree(bag_dir)
    before = set(os.listdir(tmp_path))
    bag = DatasetBag(archive, work_dir=tmp_path / "work")
    assert set(os.listdir(tmp_path)) - before == {"work"}
    assert bag.path.parent.parent == tmp_path / "work"
