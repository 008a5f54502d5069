"""API.md section 8: exports of one dataset version into a shared ``dest``.

``cat.export_dataset_bag(DatasetSpec(ds), dest="out/", archive="zip")`` builds its bag
folder in a private staging folder inside ``dest`` (hidden, unique, removed afterwards),
so a folder bag of the same name there is never touched. Re-exporting an archive that is
already there: the same bytes (archives are reproducible) leave it in place and return
its path; other bytes are a ``ConflictError`` naming the file. Re-exporting a folder bag
over an existing one stays a ``ConflictError`` (a folder may have been edited or
materialized since, and proving it identical would read every file).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pytest

from assetry import Catalog, ConflictError, DatasetSpec
from assetry.bags.reader import DatasetBag
from tests.cli.test_cli import make_runner
from tests.helpers import tree

FILES = 3


@pytest.fixture
def study(sqlite_catalog: Catalog, tmp_path: Path) -> tuple[Catalog, str]:
    cat = sqlite_catalog
    cat.create_asset("Image")
    cat.add_dataset_element_type("Image")
    files = []
    for i in range(FILES):
        path = tmp_path / f"src{i}.png"
        path.write_bytes(f"pixels {i} ".encode() * 40)
        files.append(path)
    images = cat.upload_assets("Image", files)
    ds = cat.create_dataset(dataset_types=[], description="shared dest")
    assert cat.add_dataset_members(ds, [i["RID"] for i in images]) == "0.2.0"
    return cat, ds


def listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def stat_of(path: Path) -> tuple[int, int, int]:
    info = path.stat()
    return info.st_ino, info.st_size, info.st_mtime_ns


# --- a folder bag and archives side by side ---------------------------------------------------


@pytest.mark.parametrize("archive", ["zip", "tgz"])
def test_archive_next_to_the_folder_bag_of_the_same_version(
    study: tuple[Catalog, str], tmp_path: Path, archive: str
) -> None:
    cat, ds = study
    dest = tmp_path / "out"
    folder = cat.export_dataset_bag(DatasetSpec(ds), dest=dest)
    before = tree(folder)
    packed = cat.export_dataset_bag(DatasetSpec(ds), dest=dest, archive=archive)
    assert packed == dest / f"{folder.name}.{archive}"
    assert tree(folder) == before  # the folder bag is untouched
    assert listing(dest) == sorted([folder.name, packed.name])  # no staging left behind
    bag = DatasetBag(packed, work_dir=tmp_path / "work")
    assert bag.path.name == folder.name  # the archive's top folder is the bag's name
    bag.validate()
    assert tree(bag.path) == before


def test_folder_after_archive(study: tuple[Catalog, str], tmp_path: Path) -> None:
    cat, ds = study
    dest = tmp_path / "out"
    packed = cat.export_dataset_bag(DatasetSpec(ds), dest=dest, archive="zip")
    folder = cat.export_dataset_bag(DatasetSpec(ds), dest=dest)
    assert listing(dest) == sorted([folder.name, packed.name])
    DatasetBag(folder).validate()


def test_archive_is_the_same_as_into_an_empty_dest(
    study: tuple[Catalog, str], tmp_path: Path
) -> None:
    cat, ds = study
    alone = cat.export_dataset_bag(DatasetSpec(ds, "0.2.0"), dest=tmp_path / "a", archive="zip")
    shared = tmp_path / "b"
    cat.export_dataset_bag(DatasetSpec(ds, "0.2.0"), dest=shared)
    beside = cat.export_dataset_bag(DatasetSpec(ds, "0.2.0"), dest=shared, archive="zip")
    assert alone.read_bytes() == beside.read_bytes()


def test_linked_archive_next_to_a_linked_folder(study: tuple[Catalog, str], tmp_path: Path) -> None:
    cat, ds = study
    dest = tmp_path / "out"
    folder = cat.export_dataset_bag(DatasetSpec(ds), dest=dest, link=True)
    packed = cat.export_dataset_bag(DatasetSpec(ds), dest=dest, archive="zip", link=True)
    plain = cat.export_dataset_bag(DatasetSpec(ds), dest=tmp_path / "plain", archive="zip")
    assert packed.read_bytes() == plain.read_bytes()  # links and copies archive alike
    assert (folder / "bagit.txt").is_file()
    assert cat.fsck().ok


# --- re-exporting into a dest that holds the export ------------------------------------------


@pytest.mark.parametrize("archive", ["zip", "tgz"])
def test_same_archive_again_is_left_in_place(
    study: tuple[Catalog, str], tmp_path: Path, archive: str
) -> None:
    cat, ds = study
    dest = tmp_path / "out"
    first = cat.export_dataset_bag(DatasetSpec(ds), dest=dest, archive=archive)
    before = stat_of(first)
    again = cat.export_dataset_bag(DatasetSpec(ds), dest=dest, archive=archive)
    assert again == first
    assert stat_of(again) == before  # the very same file, not rewritten
    assert listing(dest) == [first.name]


def test_archive_with_other_bytes_is_a_conflict_naming_it(
    study: tuple[Catalog, str], tmp_path: Path
) -> None:
    cat, ds = study
    dest = tmp_path / "out"
    target = cat.export_dataset_bag(DatasetSpec(ds), dest=dest, archive="zip")
    target.write_bytes(b"someone else's zip")
    with pytest.raises(ConflictError, match=f"{target.name} exists with other content"):
        cat.export_dataset_bag(DatasetSpec(ds), dest=dest, archive="zip")
    assert target.read_bytes() == b"someone else's zip"  # never replaced
    assert listing(dest) == [target.name]


def test_archive_of_a_holey_bag_under_the_name_of_a_full_one_is_a_conflict(
    study: tuple[Catalog, str], tmp_path: Path
) -> None:
    cat, ds = study
    dest = tmp_path / "out"
    holey = cat.export_dataset_bag(DatasetSpec(ds, materialize=False), dest=dest, archive="zip")
    with pytest.raises(ConflictError, match=holey.name):
        cat.export_dataset_bag(DatasetSpec(ds), dest=dest, archive="zip")
    with zipfile.ZipFile(holey) as zf:
        assert any(n.endswith("/fetch.txt") for n in zf.namelist())  # still the holey one


def test_archive_name_taken_by_a_folder_or_a_link_is_a_conflict(
    study: tuple[Catalog, str], tmp_path: Path
) -> None:
    cat, ds = study
    dest = tmp_path / "out"
    name = cat.export_dataset_bag(DatasetSpec(ds), dest=tmp_path / "ref", archive="zip").name
    dest.mkdir()
    (dest / name).mkdir()
    with pytest.raises(ConflictError, match=f"{name} exists and is not a file"):
        cat.export_dataset_bag(DatasetSpec(ds), dest=dest, archive="zip")
    (dest / name).rmdir()
    (dest / name).symlink_to(tmp_path / "ref" / name)  # even to the identical archive
    with pytest.raises(ConflictError, match=f"{name} is a symbolic link"):
        cat.export_dataset_bag(DatasetSpec(ds), dest=dest, archive="zip")
    assert listing(dest) == [name]


def test_folder_bag_again_is_still_a_conflict(study: tuple[Catalog, str], tmp_path: Path) -> None:
    cat, ds = study
    dest = tmp_path / "out"
    folder = cat.export_dataset_bag(DatasetSpec(ds), dest=dest)
    before = tree(folder)
    with pytest.raises(ConflictError, match=f"{folder.name} is not empty"):
        cat.export_dataset_bag(DatasetSpec(ds), dest=dest)
    assert tree(folder) == before
    assert listing(dest) == [folder.name]


def test_dest_that_is_a_file_is_refused(study: tuple[Catalog, str], tmp_path: Path) -> None:
    cat, ds = study
    a_file = tmp_path / "a-file"
    a_file.write_text("mine")
    for archive in (None, "zip"):
        with pytest.raises(ConflictError, match="a-file exists and is not a directory"):
            cat.export_dataset_bag(DatasetSpec(ds), dest=a_file, archive=archive)
    assert a_file.read_text() == "mine"


# --- the command line -----------------------------------------------------------------------


def test_cli_folder_then_zip_into_one_dest(
    study: tuple[Catalog, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cat, ds = study
    run = make_runner(capsys)
    dest = tmp_path / "bags"
    loc = str(cat.location)
    first = run("--catalog", loc, "bag", "export", ds, "--dest", str(dest))
    assert first.code == 0, first.err
    second = run("--catalog", loc, "bag", "export", ds, "--dest", str(dest), "--archive", "zip")
    assert second.code == 0, second.err
    again = run("--catalog", loc, "bag", "export", ds, "--dest", str(dest), "--archive", "zip")
    assert again.code == 0, again.err
    assert first.out.strip() + ".zip" == second.out.strip() == again.out.strip()
    assert listing(dest) == sorted([Path(first.out.strip()).name, Path(second.out.strip()).name])


# --- crashes --------------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import sys
    from assetry import Catalog, DatasetSpec

    cat = Catalog(sys.argv[1])
    cat.export_dataset_bag(DatasetSpec(sys.argv[2], "0.2.0"), dest=sys.argv[3], archive="zip")
    """
)


@pytest.mark.parametrize(
    "point",
    [
        "export.after_asset:1",
        f"export.after_asset:{FILES}",
        "export.before_rename:1",
        "export.before_archive_link:1",
    ],
)
def test_killed_archive_export_leaves_the_folder_bag_and_no_archive(
    study: tuple[Catalog, str], tmp_path: Path, point: str
) -> None:
    cat, ds = study
    reference = cat.export_dataset_bag(
        DatasetSpec(ds, "0.2.0"), dest=tmp_path / "ref", archive="zip"
    )
    dest = tmp_path / "out"
    folder = cat.export_dataset_bag(DatasetSpec(ds, "0.2.0"), dest=dest)
    before = tree(folder)
    env: dict[str, Any] = {**os.environ, "ASSETRY_FAULT_POINT": point}
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(cat.location), ds, str(dest)],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    assert tree(folder) == before
    assert not (dest / reference.name).exists()  # never a half archive under its name
    leftovers = [n for n in listing(dest) if n not in (folder.name,)]
    assert all(n.startswith(f".{folder.name}.") for n in leftovers), leftovers  # hidden
    again = cat.export_dataset_bag(DatasetSpec(ds, "0.2.0"), dest=dest, archive="zip")
    assert again.read_bytes() == reference.read_bytes()
    assert tree(folder) == before
    # the next export into the folder removed what the crashed one left
    assert sorted(listing(dest)) == sorted([folder.name, again.name])
    assert cat.fsck().ok


def test_fsck_reports_and_repair_removes_crashed_exports_in_the_bag_folder(
    study: tuple[Catalog, str], tmp_path: Path
) -> None:
    cat, ds = study
    bags = cat._context.local_root() / "bags"
    env: dict[str, Any] = {**os.environ, "ASSETRY_FAULT_POINT": "export.before_archive_link:1"}
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(cat.location), ds, str(bags)],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    [left] = [p for p in bags.iterdir() if p.name.endswith(".staging")]
    report = cat.fsck()
    assert report.abandoned_exports == [str(left)] and left.exists()
    cat.fsck(repair=True)
    assert not left.exists()


def test_an_export_in_progress_is_not_taken_for_abandoned(tmp_path: Path) -> None:
    from assetry.bags import archive

    staging = tmp_path / ".bag.x.staging"
    staging.mkdir()
    held = archive._hold(staging)
    try:
        assert archive.abandoned_staging(tmp_path) == []
    finally:
        os.close(held)
    assert archive.abandoned_staging(tmp_path) == [staging]
