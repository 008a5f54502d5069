"""Fuzzed bags: malformed bagit.txt, manifests, fetch.txt, tag files and archives (zip
slip, links, devices, lying sizes, random damage). Every one is either read correctly or
refused with a ``BagError``: never another exception, never a file outside the target.

``ASSETRY_FUZZ_BAGS`` sets the number of generated bags per test (CI: a small fixed,
derandomized sample); each tried bag is counted in ``$ASSETRY_FIGURES_DIR``.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assetry import AssetryError, BagError, Catalog, ColumnDef, DatasetSpec
from assetry.bags import fetch
from assetry.bags.reader import DatasetBag

EXAMPLES = int(os.environ.get("ASSETRY_FUZZ_BAGS", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
TAG_FILES = [
    "bagit.txt",
    "bag-info.txt",
    "manifest-md5.txt",
    "manifest-sha256.txt",
    "tagmanifest-md5.txt",
    "tagmanifest-sha256.txt",
    "fetch.txt",
    "data/schema.json",
    "data/Image.csv",
]


def count(kind: str, n: int = 1) -> None:
    folder = os.environ.get("ASSETRY_FIGURES_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        with open(Path(folder) / "fuzzed-bags.jsonl", "a") as out:
            out.write(json.dumps({"kind": kind, "bags": n}) + "\n")


@pytest.fixture(scope="module")
def bags(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """A small valid bag, materialized and not (with fetch.txt), plus zip and tgz."""
    root = tmp_path_factory.mktemp("fuzz-source")
    cat = Catalog.create(root / "catalog")
    cat.create_asset("Image", [ColumnDef("Width", "int4")])
    cat.add_dataset_element_type("Image")
    files = []
    for i in range(3):
        path = root / f"img{i}.png"
        path.write_bytes(f"pixels {i}".encode() * 20)
        files.append(path)
    images = cat.upload_assets("Image", files)
    ds = cat.create_dataset([], description="fuzz")
    cat.add_dataset_members(ds, [i["RID"] for i in images])
    out = {
        "full": cat.export_dataset_bag(DatasetSpec(ds), dest=root / "full"),
        "fetch": cat.export_dataset_bag(DatasetSpec(ds, materialize=False), dest=root / "fetch"),
        "zip": cat.export_dataset_bag(DatasetSpec(ds), dest=root / "zip", archive="zip"),
        "tgz": cat.export_dataset_bag(DatasetSpec(ds), dest=root / "tgz", archive="tgz"),
    }
    yield out
    cat.close()


def read_everything(path: Path, work: Path | None = None) -> None:
    """Everything a user does with a bag: open, validate, materialize, read tables."""
    bag = DatasetBag(path, work_dir=work)
    if not bag.is_complete:
        bag.materialize()
    bag.validate()
    for table in bag.list_tables():
        list(bag.get_table_as_dict(table))
    bag.list_dataset_members()


def refused_or_read(path: Path, work: Path | None = None) -> None:
    try:
        read_everything(path, work)
    except AssetryError as err:
        assert isinstance(err, BagError), f"{type(err).__name__}: {err}"


def files_outside(folder: Path, allowed: Path) -> set[str]:
    return {str(p) for p in folder.rglob("*") if not str(p).startswith(str(allowed))}


# --- damaged tag files ------------------------------------------------------------------

MUTATIONS = st.sampled_from(
    ["truncate", "flip", "insert", "drop_line", "dup_line", "garbage", "empty", "crlf"]
)


def mutate(data: bytes, how: str, at: int, blob: bytes) -> bytes:
    at = at % (len(data) + 1)
    lines = data.splitlines(keepends=True) or [b""]
    line = at % len(lines)
    if how == "truncate":
        return data[:at]
    if how == "flip":
        return data[:at] + bytes([(data[at] if at < len(data) else 0) ^ 0x5A]) + data[at + 1 :]
    if how == "insert":
        return data[:at] + blob + data[at:]
    if how == "drop_line":
        return b"".join(lines[:line] + lines[line + 1 :])
    if how == "dup_line":
        return b"".join(lines[: line + 1] + lines[line:])
    if how == "garbage":
        return blob
    if how == "empty":
        return b""
    return data.replace(b"\n", b"\r\n")


@FUZZ
@given(
    source=st.sampled_from(["full", "fetch"]),
    name=st.sampled_from(TAG_FILES),
    how=MUTATIONS,
    at=st.integers(min_value=0, max_value=10_000),
    blob=st.binary(max_size=200)
    | st.sampled_from(
        [
            b"\n../../evil 10 data/x\n",
            b"%2e%2e/%2e%2e/evil\n",
            b"BagIt-Version: 9.9\n",
            b"0" * 64 + b"  ../outside\n",
            b"Payload-Oxum: 99999999999999999999.1\n",
            b"http://127.0.0.1:9/x 5 data/assets/a\n",
            b"\xff\xfe\x00bad utf\n",
        ]  # fmt: skip
    ),
)
def test_damaged_tag_files_are_refused_or_read(
    bags: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
    source: str,
    name: str,
    how: str,
    at: int,
    blob: bytes,
) -> None:
    work = tmp_path_factory.mktemp("damaged")
    bag = Path(shutil.copytree(bags[source], work / bags[source].name))
    target = bag / name
    data = target.read_bytes() if target.exists() else b""
    target.write_bytes(mutate(data, how, at, blob))
    refused_or_read(bag)
    assert files_outside(work, bag) == set()
    count("tag file")


def test_a_fetch_url_that_is_refused_is_a_bag_error(
    bags: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch, "RETRY_DELAY", 0.01)  # the refusal is retried once: at once
    bag = Path(shutil.copytree(bags["fetch"], tmp_path / "b"))
    lines = (bag / "fetch.txt").read_text().splitlines()
    url, size, path = lines[0].split(" ", 2)
    lines[0] = f"http://127.0.0.1:9/nothing {size} {path}"
    (bag / "fetch.txt").write_text("\n".join(lines) + "\n")
    with pytest.raises(BagError):
        read_everything(bag)
    count("fetch url")


# --- hostile archives ---------------------------------------------------------------------


def zip_with(entries: list[tuple[zipfile.ZipInfo | str, bytes]], path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for info, data in entries:
            z.writestr(info, data)
    return path


def tar_with(members: list[tuple[tarfile.TarInfo, bytes | None]], path: Path) -> Path:
    with tarfile.open(path, "w:gz") as t:
        for info, data in members:
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def tar_info(
    name: str, kind: bytes = tarfile.REGTYPE, size: int = 0, link: str = ""
) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname = kind, size, link
    return info


HOSTILE = {
    "zip slip": lambda p: zip_with([("bag/bagit.txt", b"x"), ("bag/../../evil.txt", b"x")], p),
    "zip absolute": lambda p: zip_with([("/tmp/assetry-evil.txt", b"x")], p),
    "zip backslash": lambda p: zip_with([("bag\\..\\..\\evil.txt", b"x")], p),
    "zip drive": lambda p: zip_with([("C:/evil.txt", b"x")], p),
    "zip symlink": lambda p: zip_with([(_zip_symlink("bag/link"), b"/etc/passwd")], p),
    "tar slip": lambda p: tar_with([(tar_info("bag/../../evil.txt", size=1), b"x")], p),
    "tar absolute": lambda p: tar_with([(tar_info("/tmp/assetry-evil.txt", size=1), b"x")], p),
    "tar symlink": lambda p: tar_with([(tar_info("bag/l", tarfile.SYMTYPE, link="/etc"), None)], p),
    "tar hardlink": lambda p: tar_with([(tar_info("bag/h", tarfile.LNKTYPE, link="/x"), None)], p),
    "tar device": lambda p: tar_with([(tar_info("bag/dev", tarfile.CHRTYPE), None)], p),
    "tar fifo": lambda p: tar_with([(tar_info("bag/fifo", tarfile.FIFOTYPE), None)], p),
    "empty zip": lambda p: zip_with([], p),
    "not an archive": lambda p: (p.write_bytes(b"PK\x03\x04 not really"), p)[1],
}  # fmt: skip


def _zip_symlink(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = 0o120777 << 16  # a symlink, as Unix zip tools record one
    return info


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_archives_are_refused_without_writing_outside(kind: str, tmp_path: Path) -> None:
    suffix = ".zip" if kind.startswith(("zip", "empty zip", "not")) else ".tgz"
    archive = HOSTILE[kind](tmp_path / f"hostile{suffix}")
    with pytest.raises(BagError):
        read_everything(archive, tmp_path / "work")
    assert not (tmp_path.parent / "evil.txt").exists()
    assert not Path("/tmp/assetry-evil.txt").exists()
    work = tmp_path / "work"
    assert not work.exists() or not any(work.iterdir())  # the staging folder is gone
    count("hostile archive")


def test_a_zip_entry_bigger_than_it_declares_is_refused(
    bags: dict[str, Path], tmp_path: Path
) -> None:
    source = zipfile.ZipFile(bags["zip"])
    out = tmp_path / "liar.zip"
    with zipfile.ZipFile(out, "w") as z:
        for info in source.infolist():
            z.writestr(info, source.read(info))
    # Shrink the declared size of the first payload file in both headers.
    raw = bytearray(out.read_bytes())
    victim = next(i for i in source.infolist() if "/data/assets/" in i.filename)
    real = victim.file_size.to_bytes(4, "little")
    fake = (1).to_bytes(4, "little")
    lied = bytes(raw).replace(real + real, fake + fake)  # compressed, uncompressed sizes
    assert lied != bytes(raw)
    out.write_bytes(lied)
    refused_or_read(out, tmp_path / "work")
    count("lying zip")


@FUZZ
@given(
    source=st.sampled_from(["zip", "tgz"]),
    at=st.integers(min_value=0, max_value=1 << 20),
    how=st.sampled_from(["truncate", "flip", "insert"]),
    blob=st.binary(min_size=1, max_size=64),
)
def test_damaged_archives_are_refused_or_read(
    bags: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
    source: str,
    at: int,
    how: str,
    blob: bytes,
) -> None:
    work = tmp_path_factory.mktemp("archive")
    archive = work / bags[source].name
    archive.write_bytes(mutate(bags[source].read_bytes(), how, at, blob))
    refused_or_read(archive, work / "x")
    assert files_outside(work, work) == set()
    count("damaged archive")
