"""Staging many files at once: ``exe.asset_file_path(table, folder_or_list)``; every bad
input refused with an error naming it and nothing staged; staged files by reference are
copied (never moved) into the store and survive a crash of the upload."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assetry import (
    Catalog,
    ColumnDef,
    ExecutionConfiguration,
    StateError,
    TableDef,
    ValidationError,
)
from assetry.executions.assetpath import AssetFilePath
from tests.conftest import BuildCatalog


def images(cat: Catalog) -> None:
    cat.create_asset("Image", column_defs=[ColumnDef("Width", "int4")])
    cat.add_term("Asset_Type", "Segmentation_Mask", synonyms=["mask"])
    cat.create_table(TableDef("Subject", column_defs=[ColumnDef("Name", "text")]))


@pytest.fixture
def cat(built_catalog: BuildCatalog) -> Catalog:
    return built_catalog(images)[0]


def workflow(cat: Catalog) -> str:
    return cat.create_workflow("batch", "Training", url="https://x/b.py", checksum="b").rid


def tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


FILES = {"a.png": b"a", "sub/b.png": b"bb", "sub/deep/c.png": b"ccc", ".hidden": b"h"}


def nothing_staged(exe: object) -> bool:
    work = exe.working_dir  # type: ignore[attr-defined]
    journal = work / "staging.jsonl"
    assets = work / "assets"
    return not journal.exists() and not (assets.exists() and any(assets.rglob("*")))


def test_a_folder_is_staged_with_its_structure_and_uploaded(cat: Catalog, tmp_path: Path) -> None:
    folder = tree(tmp_path / "out", FILES)
    with cat.create_execution(ExecutionConfiguration(workflow=workflow(cat))) as exe:
        paths = exe.asset_file_path("Image", folder, asset_types="mask", Width=7,
                                    description="batch")  # fmt: skip
        assert isinstance(paths, list)
        assert all(isinstance(p, AssetFilePath) for p in paths)
        assert [p.file_name for p in paths] == sorted(FILES)
        # Staged by reference: the paths are the files' own; nothing written per file.
        assert [os.fspath(p) for p in paths] == [os.fspath(folder / n) for n in sorted(FILES)]
        assert {p.asset_table for p in paths} == {"Image"}
        assert all(p.asset_types == ["Segmentation_Mask"] for p in paths)
        assert all(p.metadata == {"Width": 7} for p in paths)
        assert not (exe.working_dir / "assets").exists()
    out = exe.upload_execution_outputs()
    assets = {a["Filename"]: a for a in out["Image"]}
    assert set(assets) == {"a.png", "b.png", "c.png", ".hidden"}
    for name, data in FILES.items():
        asset = assets[name.rsplit("/", 1)[-1]]
        assert asset["SHA256"] == hashlib.sha256(data).hexdigest()
        assert asset["Width"] == 7 and asset["Description"] == "batch"
        assert asset["Asset_Type"] == ["Segmentation_Mask"]
    # The user's files are still there and still theirs (copied, never moved or linked).
    for name, data in FILES.items():
        path = folder / name
        assert path.read_bytes() == data and os.stat(path).st_nlink == 1
    store = cat._context.store()  # type: ignore[attr-defined]
    for asset in assets.values():
        stored = store.local_path(asset["SHA256"])
        assert os.stat(stored).st_ino not in {os.stat(folder / n).st_ino for n in FILES}


def test_a_list_is_staged_by_file_name_and_rename_file_is_a_folder(
    cat: Catalog, tmp_path: Path
) -> None:
    folder = tree(tmp_path / "in", {"x/one.txt": b"1", "y/two.txt": b"22"})
    listed = [folder / "x/one.txt", str(folder / "y/two.txt")]
    with cat.create_execution(ExecutionConfiguration(workflow=workflow(cat))) as exe:
        paths = exe.asset_file_path("Image", listed, rename_file="run1")
        assert [p.file_name for p in paths] == ["run1/one.txt", "run1/two.txt"]
        assert exe.asset_file_path("Image", []) == []
    out = exe.upload_execution_outputs()
    assert sorted(a["Filename"] for a in out["Image"]) == ["one.txt", "two.txt"]
    recorded = cat._backend.recorded_outputs(exe.rid)  # type: ignore[attr-defined]
    assert set(recorded) == {"Image/run1/one.txt", "Image/run1/two.txt"}


def test_copy_file_stages_copies_now(cat: Catalog, tmp_path: Path) -> None:
    folder = tree(tmp_path / "in", {"m.bin": b"before"})
    with cat.create_execution(ExecutionConfiguration(workflow=workflow(cat))) as exe:
        [path] = exe.asset_file_path("Image", folder, copy_file=True)
        assert exe.working_dir in path.parents and path.read_bytes() == b"before"
    (folder / "m.bin").write_bytes(b"changed later")
    [asset] = exe.upload_execution_outputs()["Image"]
    assert asset["SHA256"] == hashlib.sha256(b"before").hexdigest()


def test_a_staged_reference_is_read_when_uploading_and_retyped(
    cat: Catalog, tmp_path: Path
) -> None:
    folder = tree(tmp_path / "in", {"w.bin": b"v1"})
    with cat.create_execution(ExecutionConfiguration(workflow=workflow(cat))) as exe:
        [path] = exe.asset_file_path("Image", folder)
        path.set_asset_types(["mask"])
        path.set_metadata(Width=3)
    (folder / "w.bin").write_bytes(b"v2, longer")
    [asset] = exe.upload_execution_outputs()["Image"]
    assert asset["Length"] == len(b"v2, longer")
    assert asset["Asset_Type"] == ["Segmentation_Mask"] and asset["Width"] == 3


def test_missing_files_in_a_list_are_named_and_nothing_is_staged(
    cat: Catalog, tmp_path: Path
) -> None:
    good = tree(tmp_path / "in", {"ok.bin": b"ok"}) / "ok.bin"
    with cat.create_execution(ExecutionConfiguration(workflow=workflow(cat))) as exe:
        with pytest.raises(ValidationError) as err:
            exe.asset_file_path("Image", [good, tmp_path / "gone.bin", tmp_path / "in"])
        text = str(err.value)
        assert "gone.bin is not an existing file" in text
        assert "is a folder" in text and "ok.bin" not in text
        assert nothing_staged(exe)
    assert exe.upload_execution_outputs() == {}


def test_duplicate_names_are_named_and_nothing_is_staged(cat: Catalog, tmp_path: Path) -> None:
    a = tree(tmp_path / "a", {"same.png": b"1"}) / "same.png"
    b = tree(tmp_path / "b", {"same.png": b"2"}) / "same.png"
    with cat.create_execution(ExecutionConfiguration(workflow=workflow(cat))) as exe:
        with pytest.raises(ValidationError, match=r"'same.png' is given twice"):
            exe.asset_file_path("Image", [a, b])
        with pytest.raises(ValidationError, match=r"given twice"):
            exe.asset_file_path("Image", [a, a])
        assert nothing_staged(exe)
        # Against what this execution staged before: refused too, nothing more staged.
        exe.asset_file_path("Image", [a])
        with pytest.raises(ValidationError, match=r"'same.png' .* already staged"):
            exe.asset_file_path("Image", [b])
        exe.asset_file_path("Image", "c.png").write_bytes(b"c")
        with pytest.raises(ValidationError, match=r"'c.png' .* already staged"):
            exe.asset_file_path("Image", tree(tmp_path / "c", {"c.png": b"3"}))
    [asset, _] = sorted(exe.upload_execution_outputs()["Image"], key=lambda a: a["Filename"])
    assert asset["SHA256"] == hashlib.sha256(b"c").hexdigest()


def test_a_name_both_file_and_folder_is_refused(cat: Catalog, tmp_path: Path) -> None:
    with cat.create_execution(ExecutionConfiguration(workflow=workflow(cat))) as exe:
        exe.asset_file_path("Image", "x").write_bytes(b"x")
        folder = tree(tmp_path / "in", {"x/inner.png": b"i"})
        with pytest.raises(ValidationError, match=r"needs a folder 'x', which is a staged file"):
            exe.asset_file_path("Image", folder)
    assert [a["Filename"] for a in exe.upload_execution_outputs()["Image"]] == ["x"]


@pytest.mark.parametrize("rename", ["../up", "/abs", "a/../../b", ""])
def test_a_folder_name_escaping_the_working_dir_is_refused(
    cat: Catalog, tmp_path: Path, rename: str
) -> None:
    folder = tree(tmp_path / "in", {"f.png": b"f"})
    with cat.create_execution(ExecutionConfiguration(workflow=workflow(cat))) as exe:
        with pytest.raises(ValidationError, match="rename_file"):
            exe.asset_file_path("Image", folder, rename_file=rename)
        assert nothing_staged(exe)


def test_bad_tables_types_and_columns_are_refused_before_anything(
    cat: Catalog, tmp_path: Path
) -> None:
    folder = tree(tmp_path / "in", {"f.png": b"f"})
    with cat.create_execution(ExecutionConfiguration(workflow=workflow(cat))) as exe:
        with pytest.raises(ValidationError, match="Subject"):
            exe.asset_file_path("Subject", folder)
        with pytest.raises(Exception, match="Nope"):
            exe.asset_file_path("Nope", folder)
        with pytest.raises(Exception, match="no_such_type"):
            exe.asset_file_path("Image", folder, asset_types=["no_such_type"])
        with pytest.raises(ValidationError, match="Width"):
            exe.asset_file_path("Image", folder, Width="wide")
        assert nothing_staged(exe)


def test_a_failed_copy_stages_nothing(
    cat: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    folder = tree(tmp_path / "in", {"a.bin": b"a", "b.bin": b"b"})
    real = shutil.copyfile

    def failing(src: str, dst: str) -> str:
        if src.endswith("b.bin"):
            raise OSError(28, "No space left on device", src)
        return real(src, dst)

    monkeypatch.setattr(shutil, "copyfile", failing)
    with cat.create_execution(ExecutionConfiguration(workflow=workflow(cat))) as exe:
        with pytest.raises(ValidationError, match=r"b.bin .*No space left"):
            exe.asset_file_path("Image", folder, copy_file=True)
        assert nothing_staged(exe)


def test_no_staging_after_the_upload(cat: Catalog, tmp_path: Path) -> None:
    folder = tree(tmp_path / "in", {"a.bin": b"a"})
    with cat.create_execution(ExecutionConfiguration(workflow=workflow(cat))) as exe:
        exe.asset_file_path("Image", folder)
    exe.upload_execution_outputs(clean_folder=False)
    with pytest.raises(StateError, match="already uploaded"):
        exe.asset_file_path("Image", folder, rename_file="again")


def test_a_missing_reference_fails_the_upload_naming_it(cat: Catalog, tmp_path: Path) -> None:
    folder = tree(tmp_path / "in", {"a.bin": b"a", "b.bin": b"b"})
    with cat.create_execution(ExecutionConfiguration(workflow=workflow(cat))) as exe:
        exe.asset_file_path("Image", folder)
    (folder / "b.bin").unlink()
    with pytest.raises(Exception, match="Image/b.bin"):
        exe.upload_execution_outputs()
    assert [a["Filename"] for a in cat.list_assets("Image")] == ["a.bin"]
    (folder / "b.bin").write_bytes(b"b")
    exe.upload_execution_outputs()
    assert sorted(a["Filename"] for a in cat.list_assets("Image")) == ["a.bin", "b.bin"]


CHILD = textwrap.dedent(
    """
    import sys
    from assetry import Catalog, ExecutionConfiguration
    from assetry.executions import upload

    upload.BATCH_SIZE = 5
    cat = Catalog(sys.argv[1])
    wf = cat.create_workflow("crash", "Training", url="u", checksum="c")
    exe = cat.create_execution(ExecutionConfiguration(workflow=wf))
    print(exe.rid, flush=True)
    exe.asset_file_path("Image", sys.argv[2], Width=5)
    exe.upload_execution_outputs()
    """
)


@pytest.mark.parametrize("point", ["upload.after_object:7", "upload.after_rows:2"])
def test_a_killed_upload_of_a_staged_folder_finishes_on_restore(
    catalog: Catalog, tmp_path: Path, point: str
) -> None:
    catalog.create_asset("Image", column_defs=[ColumnDef("Width", "int4")])
    files = {f"d{i % 3}/{i:03d}.bin": b"x%d" % i for i in range(20)}
    folder = tree(tmp_path / "user", files)
    env = {**os.environ, "ASSETRY_FAULT_POINT": point}
    child = subprocess.run(
        [sys.executable, "-c", CHILD, catalog.location, str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    rid = child.stdout.split()[0]
    assert len(catalog.list_assets("Image")) < len(files)
    exe = catalog.restore_execution()  # the one unfinished execution of this tree
    assert exe.rid == rid
    exe.upload_execution_outputs()
    assets = catalog.list_assets("Image")
    assert sorted(a["Filename"] for a in assets) == sorted(n.split("/")[1] for n in files)
    assert {a["Width"] for a in assets} == {5}
    for name, data in files.items():
        assert (folder / name).read_bytes() == data  # the user's files untouched
    report = catalog.fsck()
    assert report.ok and report.unreferenced == [], report.to_dict()
