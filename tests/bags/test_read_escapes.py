"""API.md section 8: "Reading a bag rejects paths that escape the bag".

Every read of a ``DatasetBag`` (opening it, the model, tables as dicts or dataframes,
members, asset paths) applies the rule ``validate()`` applies to the payload: a file that
is a symbolic link out of the bag, a file inside a folder that is a symbolic link, or a
file that is not a regular file is a ``BagError`` naming it, and nothing outside the bag
is read. A symbolic link to a regular file inside the bag is followed, as ``validate()``
accepts it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assetry import BagError, TableNotFound
from assetry.bags.reader import DatasetBag
from tests.bags.test_reader import image_bytes, make_bag

OUTSIDE_CSV = "RID,Description,Deleted\nX-1,outside the bag,false\n"

READS: dict[str, Callable[[DatasetBag], Any]] = {
    "get_table_as_dict": lambda bag: bag.get_table_as_dict("Dataset"),
    "get_table_as_dataframe": lambda bag: bag.get_table_as_dataframe("Dataset"),
    "list_dataset_members": lambda bag: bag.list_dataset_members(),
}


@pytest.fixture
def bag_dir(tmp_path: Path) -> Path:
    return make_bag(tmp_path / "Dataset_T-D1_v0.2.0")


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "Dataset.csv").write_text(OUTSIDE_CSV)
    (folder / "secret.png").write_bytes(b"secret bytes")
    return folder


def _replace_with_link(path: Path, target: Path | str) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()
    path.symlink_to(target)


# --- tables and members ------------------------------------------------------------------


@pytest.mark.parametrize("read", sorted(READS))
def test_table_symlinked_out_of_the_bag_is_refused(bag_dir: Path, outside: Path, read: str) -> None:
    _replace_with_link(bag_dir / "data/Dataset.csv", outside / "Dataset.csv")
    bag = DatasetBag(bag_dir)
    with pytest.raises(BagError, match="data/Dataset.csv is a symbolic link out of the bag"):
        READS[read](bag)


@pytest.mark.parametrize("read", sorted(READS))
def test_table_symlinked_to_an_absolute_system_file_is_refused(bag_dir: Path, read: str) -> None:
    _replace_with_link(bag_dir / "data/Dataset.csv", "/etc/hostname")
    with pytest.raises(BagError, match="data/Dataset.csv is a symbolic link out of the bag"):
        READS[read](DatasetBag(bag_dir))


def test_membership_table_symlinked_out_is_refused(bag_dir: Path, outside: Path) -> None:
    (outside / "members.csv").write_text("RID,Dataset,Image\nX-2,T-D1,T-I1\n")
    _replace_with_link(bag_dir / "data/Dataset_Image.csv", outside / "members.csv")
    bag = DatasetBag(bag_dir)
    with pytest.raises(BagError, match="data/Dataset_Image.csv is a symbolic link out"):
        bag.list_dataset_members()
    assert "Dataset_Image" in bag.list_tables()  # listed, so that reading it says why not


def test_dangling_and_looping_links_are_refused(bag_dir: Path) -> None:
    _replace_with_link(bag_dir / "data/Subject.csv", bag_dir.parent / "nowhere.csv")
    loop = bag_dir / "data/Dataset.csv"
    _replace_with_link(loop, loop)
    bag = DatasetBag(bag_dir)
    with pytest.raises(BagError, match="data/Subject.csv is a symbolic link out of the bag"):
        bag.get_table_as_dict("Subject")
    with pytest.raises(BagError, match="data/Dataset.csv is a symbolic link out of the bag"):
        bag.get_table_as_dict("Dataset")


def test_a_table_that_is_no_regular_file_is_refused(bag_dir: Path) -> None:
    path = bag_dir / "data/Subject.csv"
    path.unlink()
    os.mkfifo(path)  # never opened: reading it would block
    bag = DatasetBag(bag_dir)
    assert "Subject" in bag.list_tables()
    with pytest.raises(BagError, match="data/Subject.csv is not a regular file"):
        bag.get_table_as_dict("Subject")
    with pytest.raises(BagError, match="data/Subject.csv is not a regular file"):
        bag.list_dataset_members()


def test_a_folder_named_like_a_table_is_not_listed_and_not_read(bag_dir: Path) -> None:
    (bag_dir / "data/Folder.csv").mkdir()
    bag = DatasetBag(bag_dir)
    assert "Folder" not in bag.list_tables()
    with pytest.raises(BagError, match="data/Folder.csv is not a regular file"):
        bag.get_table_as_dict("Folder")
    with pytest.raises(TableNotFound):
        bag.get_table_as_dict("Absent")


def test_symlinked_payload_folder_is_refused(bag_dir: Path, tmp_path: Path) -> None:
    shutil.move(bag_dir / "data", tmp_path / "elsewhere")
    (bag_dir / "data").symlink_to(tmp_path / "elsewhere")
    bag = DatasetBag(bag_dir)
    with pytest.raises(BagError, match="data/ is a symbolic link"):
        bag.list_tables()
    with pytest.raises(BagError, match="data/Dataset.csv: the folder data/ is a symbolic link"):
        bag.get_table_as_dict("Dataset")
    with pytest.raises(BagError, match="data/schema.json: the folder data/ is a symbolic link"):
        _ = bag.model
    with pytest.raises(BagError, match="data/ is a symbolic link"):
        bag.validate()


def test_schema_symlinked_out_is_refused(bag_dir: Path, outside: Path) -> None:
    (outside / "schema.json").write_text('{"tables": []}')
    _replace_with_link(bag_dir / "data/schema.json", outside / "schema.json")
    bag = DatasetBag(bag_dir)
    with pytest.raises(BagError, match="data/schema.json is a symbolic link out of the bag"):
        _ = bag.model
    with pytest.raises(BagError, match="data/schema.json is a symbolic link out of the bag"):
        bag.get_table_as_dict("Dataset")  # typing the rows needs the model


# --- assets --------------------------------------------------------------------------------


def test_asset_symlinked_out_of_the_bag_is_refused(bag_dir: Path) -> None:
    _replace_with_link(bag_dir / "data/assets/Image/T-I1/img1.png", "/etc/hostname")
    bag = DatasetBag(bag_dir)
    with pytest.raises(
        BagError, match="data/assets/Image/T-I1/img1.png is a symbolic link out of the bag"
    ):
        bag.asset_path("T-I1")
    assert bag.asset_path("T-I2").read_bytes() == image_bytes(2)  # the others still read


def test_asset_in_a_symlinked_folder_is_refused(bag_dir: Path, outside: Path) -> None:
    folder = outside / "T-I1"
    folder.mkdir()
    (folder / "img1.png").write_bytes(b"not the bag's bytes")
    _replace_with_link(bag_dir / "data/assets/Image/T-I1", folder)
    bag = DatasetBag(bag_dir)
    with pytest.raises(BagError, match="the folder data/assets/Image/T-I1/ is a symbolic link"):
        bag.asset_path("T-I1")
    with pytest.raises(BagError, match="data/assets/Image/T-I1 is a symbolic link"):
        bag.validate()


def test_asset_folder_symlinked_inside_the_bag_is_refused_as_validate_does(
    bag_dir: Path,
) -> None:
    """validate() refuses any symbolic link to a folder, so reading refuses it too."""
    os.rename(bag_dir / "data/assets/Image", bag_dir / "data/assets/Real")
    (bag_dir / "data/assets/Image").symlink_to("Real")
    bag = DatasetBag(bag_dir)
    with pytest.raises(BagError, match="the folder data/assets/Image/ is a symbolic link"):
        bag.asset_path("T-I1")
    with pytest.raises(BagError, match="data/assets/Image is a symbolic link to a directory"):
        bag.validate()


def test_asset_that_is_no_regular_file_is_refused(bag_dir: Path) -> None:
    path = bag_dir / "data/assets/Image/T-I1/img1.png"
    path.unlink()
    path.mkdir()
    with pytest.raises(BagError, match="data/assets/Image/T-I1/img1.png is not a regular file"):
        DatasetBag(bag_dir).asset_path("T-I1")


# --- links that stay inside the bag: followed, as validate() accepts them ------------------


def test_file_links_inside_the_bag_are_followed_as_validate_accepts_them(
    bag_dir: Path,
) -> None:
    shutil.move(bag_dir / "data/Subject.csv", bag_dir / "data/Subject.real")
    (bag_dir / "data/Subject.csv").symlink_to("Subject.real")
    target = bag_dir / "data/assets/Image/T-I1/img1.png"
    shutil.copy(target, bag_dir / "data/img1.copy")
    _replace_with_link(target, "../../../img1.copy")
    # The two new files are payload the manifests do not list: validation says so, and
    # says nothing about the links.
    with pytest.raises(BagError) as caught:
        DatasetBag(bag_dir).validate(fast=True)
    assert "symbolic link" not in str(caught.value)
    assert "data/Subject.real is in the payload but not listed" in str(caught.value)
    bag = DatasetBag(bag_dir)
    assert [r["RID"] for r in bag.get_table_as_dict("Subject")] == ["T-S1", "T-S2"]
    path = bag.asset_path("T-I1")
    assert path == target  # the bag's own path, not the link's target
    assert path.read_bytes() == image_bytes(1)


# --- tag files ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bagit.txt", "bag-info.txt"])
def test_tag_file_symlinked_out_of_the_bag_is_refused(
    bag_dir: Path, outside: Path, name: str
) -> None:
    (outside / name).write_bytes((bag_dir / name).read_bytes())
    _replace_with_link(bag_dir / name, outside / name)
    with pytest.raises(BagError, match=f"{name} is a symbolic link out of the bag"):
        DatasetBag(bag_dir)


def test_manifest_symlinked_out_of_the_bag_is_refused(bag_dir: Path, outside: Path) -> None:
    name = "manifest-sha256.txt"
    (outside / name).write_bytes((bag_dir / name).read_bytes())
    _replace_with_link(bag_dir / name, outside / name)
    bag = DatasetBag(bag_dir)  # opening reads bagit.txt and bag-info.txt only
    with pytest.raises(BagError, match=f"{name} is a symbolic link out of the bag"):
        bag.asset_path("T-I1")  # the asset index is read from the manifests
    with pytest.raises(BagError, match=f"{name} is a symbolic link out of the bag"):
        bag.validate()


# --- nothing outside the bag is ever returned --------------------------------


def test_exported_bag_with_outside_links_reads_nothing_outside(
    bag_dir: Path, outside: Path
) -> None:
    _replace_with_link(bag_dir / "data/Dataset.csv", outside / "Dataset.csv")
    _replace_with_link(bag_dir / "data/assets/Image/T-I1/img1.png", outside / "secret.png")
    bag = DatasetBag(bag_dir)
    for read in READS.values():
        with pytest.raises(BagError, match="data/Dataset.csv"):
            read(bag)
    with pytest.raises(BagError, match="img1.png"):
        bag.asset_path("T-I1")
    with pytest.raises(BagError, match="symbolic link out of the bag"):
        bag.validate(fast=True)
