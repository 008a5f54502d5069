"""Writing the BagIt bag (RFC 8493, version 1.0) of a dataset version.

Built for speed and reproducibility:

- assets are never re-hashed: the manifests take the checksums the catalog recorded
  (``AssetFile``); only schema.json and the CSV files are hashed, from memory;
- a local store's files are copied by the kernel (``copy_file_range``, else ``sendfile``,
  else reads) with their length checked, or hard-linked (``link=True``), on a few threads
  (the work is system calls); other stores download through ``ObjectStore.get_file``,
  which verifies each object;
- every directory is created once and every tag file written in one go;
- the same content gives the same bytes: everything sorted, LF in tag files, the only
  date ``content.created`` (also every mtime, except hard-linked assets: they share the
  stored object's inode, so its mtime).

The bag is written into a hidden sibling directory renamed into place at the end (the
commit point); a failure removes it and leaves ``dest`` untouched. Nothing is fsynced: a
bag is an export that can be written again, not the catalog's own data, and a bag a
crash damaged fails validation.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import re
import secrets
import shutil
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from assetry.bags.csvcodec import dump_rows
from assetry.errors import ChecksumMismatch, ConflictError, ValidationError
from assetry.faults import fault_point
from assetry.records.bag import (
    REFERENCE_COLUMNS,
    REFERENCE_TYPES,
    REFERENCES_CSV,
    AssetFile,
    BagContent,
)
from assetry.store.base import ObjectStore
from assetry.store.hashing import Digests, Hasher

BAGIT_TXT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
ALGORITHMS = ("md5", "sha256")
DOWNLOAD_WORKERS = 8  # concurrent downloads from a store without local files
LOCAL_WORKERS = 4  # threads copying or linking a local store's files
LOCAL_BATCH = 128  # RID folders per task of a local copy

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_HEX = re.compile(r"[0-9a-f]+")
_BAD_NAME = re.compile(r"[/\x00]|(?:^|\\)\.\.?(?:\\|$)")  # '/', NUL, a '.' or '..' part
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_READ = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
# A copy method refusing a pair of files with one of these: try the next method.
_NO_FAST_COPY = {errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EBADF}


def write_bag(
    content: BagContent,
    dest: Path,
    store: ObjectStore,
    *,
    materialize: bool = True,
    link: bool = False,
) -> Path:
    """Write the bag of ``content`` at ``dest`` and return its path.

    ``dest`` must not exist or be an empty directory (``ConflictError`` otherwise); its
    parent is created if needed. With ``materialize`` every asset is copied from
    ``store`` into ``data/assets/<Table>/<RID>/<Filename>`` (hard-linked with ``link``,
    which needs a local store and leaves the files read-only); without it the assets are
    listed in ``fetch.txt`` with the store's URLs. Invalid content (a name that is not a
    single path component, conflicting duplicate assets, malformed checksums) is a
    ``ValidationError`` that lists every problem. Errors of the store (``NotFoundError``,
    ``ChecksumMismatch``, ``StoreError``) propagate, and nothing is left behind.
    """
    dest = Path(dest)
    assets = _check_content(content)
    if link and not materialize:
        raise ValidationError("link=True needs materialize=True: a fetched asset has no file")
    if link and store.local_path("0" * 64) is None:
        raise ValidationError(
            f"link=True needs a local object store; {store.url} has no local files"
        )
    _check_dest(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = _make_temp_dir(dest)
    try:
        _fill(tmp, content, assets, store, materialize=materialize, link=link)
        fault_point("export.before_rename")
        try:
            os.rename(tmp, dest)  # replaces an empty directory, fails on anything else
        except OSError as err:
            if err.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
                raise ConflictError(f"{dest} appeared while the bag was written") from None
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def encode_path(path: str) -> str:
    """A path as a manifest or fetch.txt lists it: CR, LF and '%' percent-encoded
    (RFC 8493 sections 2.1.3 and 2.2.3)."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _bag_info_lines(content: BagContent, octets: int, files: int) -> list[str]:
    """The labels of bag-info.txt, in a fixed order."""
    import assetry  # here: the package imports the catalog, which may import the bags

    lines = [
        f"Bag-Software-Agent: assetry {assetry.__version__}",
        f"Bagging-Date: {_utc(content.created).date().isoformat()}",
        f"External-Identifier: {_one_line(content.dataset)}@{_one_line(content.version)}",
    ]
    if content.description and content.description.strip():
        lines.append(f"External-Description: {_fold(content.description)}")
    lines += [
        f"Assetry-Dataset: {_one_line(content.dataset)}",
        f"Assetry-Dataset-Version: {_one_line(content.version)}",
        f"Assetry-Snapshot: {content.snapshot}",
        f"Assetry-Catalog: {_one_line(content.catalog)}",
        f"Payload-Oxum: {octets}.{files}",
    ]
    return lines


# --- checks before anything is written ---------------------------------------------------


def _check_content(content: BagContent) -> list[AssetFile]:
    """The assets sorted by bag path (identical duplicates dropped); every problem of the
    content raised at once."""
    problems: list[str] = []
    for table in content.tables:
        _check_name(problems, table, "table")
    tables: dict[str, bool] = {}  # each asset table checked once
    by_path: dict[str, AssetFile] = {}
    for asset in content.assets:
        ok = tables.get(asset.table)
        if ok is None:
            ok = tables[asset.table] = _check_name(problems, asset.table, "asset table")
        ok &= _check_name(problems, asset.rid, f"RID of an asset of {asset.table!r}")
        ok &= _check_name(problems, asset.filename, f"file name of asset {asset.rid!r}")
        for algorithm, value, size in (("md5", asset.md5, 32), ("sha256", asset.sha256, 64)):
            if len(value) != size or not _HEX.fullmatch(value):
                problems.append(f"asset {asset.rid!r}: {value!r} is not a lower-case {algorithm}")
                ok = False
        if asset.length < 0:
            problems.append(f"asset {asset.rid!r}: negative length {asset.length}")
        elif ok:
            path = asset.bag_path
            known = by_path.setdefault(path, asset)
            if known is not asset and known != asset:
                problems.append(f"two different assets would both be {path}")
    if problems:
        raise ValidationError(problems)
    return [by_path[p] for p in sorted(by_path)]


def _check_name(problems: list[str], name: str, what: str) -> bool:
    """A table, RID or file name must be one path component that stays in its folder
    (on Windows too, where a backslash separates)."""
    if not name or _BAD_NAME.search(name):
        problems.append(f"the {what} {name!r} is not a valid file name")
        return False
    if not name.isascii():
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            problems.append(f"the {what} {name!r} is not valid Unicode")
            return False
    return True


def _check_dest(dest: Path) -> None:
    if dest.is_symlink():
        raise ConflictError(f"{dest} is a symbolic link: give the bag a new folder")
    if dest.is_dir():
        if any(dest.iterdir()):
            raise ConflictError(f"{dest} is not empty: give the bag a new or empty folder")
    elif dest.exists():
        raise ConflictError(f"{dest} exists and is not a folder")


def _make_temp_dir(dest: Path) -> Path:
    while True:
        tmp = dest.parent / f".{dest.name[:200]}.{secrets.token_hex(6)}.partial"
        try:
            tmp.mkdir()
            return tmp
        except FileExistsError:  # pragma: no cover - 48 random bits
            continue


# --- writing --------------------------------------------------------------------------------


def _fill(
    root: Path,
    content: BagContent,
    assets: list[AssetFile],
    store: ObjectStore,
    *,
    materialize: bool,
    link: bool,
) -> None:
    times = _times(content.created)
    dirs = ["data"]  # created here; the RID folders are created (and dated) as they are filled
    folders: dict[str, list[AssetFile]] = {}
    if materialize and assets:
        for asset in assets:
            folders.setdefault(f"data/assets/{asset.table}/{asset.rid}", []).append(asset)
        dirs += ["data/assets", *sorted({f"data/assets/{a.table}" for a in assets})]
    for rel in dirs:
        os.mkdir(root / rel)

    manifest: list[tuple[str, str, str]] = []  # (path, md5, sha256)
    octets = 0

    def write_documents() -> None:
        nonlocal octets
        for rel, data in _payload_documents(content):
            digests = _write_bytes(root / rel, data, times)
            manifest.append((rel, digests.md5, digests.sha256))
            octets += digests.length

    # External references stay where they are: listed in fetch.txt when the manifests can
    # name their checksums, in data/references.csv otherwise (API §12).
    fetch_lines = [
        f"{_encode_url(r.uri)} {r.size_bytes} {encode_path(r.bag_path)}\n"
        for r in content.references
        if r.fetchable
    ]
    for r in content.references:
        if r.fetchable:
            assert r.md5 is not None and r.sha256 is not None and r.size_bytes is not None
            manifest.append((r.bag_path, r.md5, r.sha256))
            octets += r.size_bytes
    if materialize:
        # The CSV files are rendered (Python) while the pool copies (system calls).
        _place_assets(str(root), folders, store, link, times, meanwhile=write_documents)
    else:
        write_documents()
        fetch_lines += [
            f"{_encode_url(store.fetch_url(a.sha256))} {a.length} {encode_path(a.bag_path)}\n"
            for a in assets
        ]
    for asset in assets:
        manifest.append((asset.bag_path, asset.md5, asset.sha256))
        octets += asset.length

    manifest.sort()
    tags: dict[str, bytes] = {"bagit.txt": BAGIT_TXT}
    for index, algorithm in enumerate(ALGORITHMS, start=1):
        text = "".join(f"{entry[index]}  {encode_path(entry[0])}\n" for entry in manifest)
        tags[f"manifest-{algorithm}.txt"] = text.encode("utf-8")
    if fetch_lines:
        tags["fetch.txt"] = "".join(fetch_lines).encode("utf-8")
    info = _bag_info_lines(content, octets, len(manifest))
    tags["bag-info.txt"] = "".join(f"{line}\n" for line in info).encode("utf-8")

    tag_digests = {name: _write_bytes(root / name, data, times) for name, data in tags.items()}
    for algorithm in ALGORITHMS:
        text = "".join(
            f"{getattr(tag_digests[name], algorithm)}  {name}\n" for name in sorted(tag_digests)
        )
        _write_bytes(root / f"tagmanifest-{algorithm}.txt", text.encode("utf-8"), times)

    for rel in reversed(dirs):  # children before parents: adding an entry changes the mtime
        os.utime(root / rel, ns=times)
    os.utime(root, ns=times)


def _payload_documents(content: BagContent) -> Iterable[tuple[str, bytes]]:
    try:
        schema = json.dumps(content.model, sort_keys=True, indent=2, ensure_ascii=False)
    except (TypeError, ValueError) as err:
        raise ValidationError(f"the model cannot be written as JSON: {err}") from None
    yield "data/schema.json", (schema + "\n").encode("utf-8")
    for name in sorted(content.tables):
        table = content.tables[name]
        text = "".join(dump_rows(table.columns, table.types, table.rows))
        yield f"data/{name}.csv", text.encode("utf-8")
    listed = [r.as_row() for r in content.references if not r.fetchable]
    if listed:
        if REFERENCES_CSV in (f"data/{name}.csv" for name in content.tables):
            raise ValidationError(
                f"the bag cannot hold both a table 'references' and {REFERENCES_CSV} "
                "(the external references of its artifact versions)"
            )
        text = "".join(dump_rows(REFERENCE_COLUMNS, REFERENCE_TYPES, listed))
        yield REFERENCES_CSV, text.encode("utf-8")


def _write_bytes(path: Path, data: bytes, times: tuple[int, int]) -> Digests:
    hasher = Hasher()
    hasher.update(data)
    fd = os.open(path, _NEW_FILE, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.utime(fd, ns=times)
    finally:
        os.close(fd)
    return hasher.digests()


def _place_assets(
    root: str,
    folders: dict[str, list[AssetFile]],
    store: ObjectStore,
    link: bool,
    times: tuple[int, int],
    meanwhile: Callable[[], None] = lambda: None,
) -> None:
    """Create each RID folder and put its files in, on a few threads: the work is system
    calls (which release the GIL) or downloads. ``meanwhile`` runs on this thread while
    they work; if it fails, the remaining folders are not started."""
    local = store.local_path("0" * 64) is not None
    items = sorted(folders.items())
    size = LOCAL_BATCH if local else 1
    batches = [items[i : i + size] for i in range(0, len(items), size)]
    stop = threading.Event()

    def run(batch: list[tuple[str, list[AssetFile]]]) -> None:
        for folder, members in batch:
            if stop.is_set():
                return
            _fill_folder(f"{root}/{folder}", members, store, link, times)

    if len(batches) <= 1:
        meanwhile()
        for batch in batches:
            run(batch)
        return
    with ThreadPoolExecutor(
        min(LOCAL_WORKERS if local else DOWNLOAD_WORKERS, len(batches))
    ) as pool:
        futures = [pool.submit(run, batch) for batch in batches]
        try:
            meanwhile()
            for future in futures:
                future.result()
        except BaseException:
            stop.set()
            for future in futures:
                future.cancel()
            raise  # leaving the with block waits for the running batches


def _fill_folder(
    folder: str, members: list[AssetFile], store: ObjectStore, link: bool, times: tuple[int, int]
) -> None:
    os.mkdir(folder)
    for asset in members:
        target = f"{folder}/{asset.filename}"
        # Where the file most likely is, without a look first (the open looks); if it is
        # not there, where the store finds it.
        if not _place(store.likely_local_path(asset.sha256), target, asset, link, times):
            source = store.local_path(asset.sha256)
            if not _place(source, target, asset, link, times):
                _download(store, target, asset, times)  # no local file: the store says why
        fault_point("export.after_asset")
    os.utime(folder, ns=times)


def _place(
    source: Path | None, target: str, asset: AssetFile, link: bool, times: tuple[int, int]
) -> bool:
    """Link or copy ``source`` to ``target``; False when there is no such file."""
    if source is None:
        return False
    return (link and _link(source, target, asset)) or _copy(source, target, asset, times)


def _link(source: Path, target: str, asset: AssetFile) -> bool:
    """Hard-link the store's file; False when it cannot (another file system, no file)."""
    try:
        os.link(source, target)
    except FileNotFoundError:
        return False
    except OSError as err:
        if err.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            return False
        raise
    size = os.stat(target).st_size
    if size != asset.length:
        raise ChecksumMismatch(asset.bag_path, "length", str(asset.length), str(size))
    return True


def _copy(source: Path, target: str, asset: AssetFile, times: tuple[int, int]) -> bool:
    """Copy the store's file by the kernel; False when the file is missing."""
    try:
        fin = os.open(source, _READ)
    except FileNotFoundError:
        return False
    try:
        fout = os.open(target, _NEW_FILE, 0o644)
        try:
            # One byte more than expected is asked for, so a longer file shows without
            # an fstat per asset (a shorter one gives fewer bytes).
            copied = _copy_fd(fin, fout, asset.length + 1)
            if copied != asset.length:
                found = f"more than {asset.length}" if copied > asset.length else str(copied)
                raise ChecksumMismatch(asset.bag_path, "length", str(asset.length), found)
            os.utime(fout, ns=times)
        finally:
            os.close(fout)
    finally:
        os.close(fin)
    return True


def _copy_fd(fin: int, fout: int, size: int) -> int:
    """Copy ``size`` bytes from the start of ``fin``; the number of bytes copied (fewer
    when the source is shorter)."""
    copied = 0
    for step in _COPY_STEPS:
        try:
            while copied < size and (done := step(fin, fout, size - copied)):
                copied += done
            return copied
        except OSError as err:
            if copied or err.errno not in _NO_FAST_COPY:
                raise
    raise AssertionError("unreachable: the last copy method never refuses")  # pragma: no cover


def _read_write(fin: int, fout: int, count: int) -> int:
    chunk = os.read(fin, min(count, 1 << 20))
    view = memoryview(chunk)
    while view:
        view = view[os.write(fout, view) :]
    return len(chunk)


# The kernel copies without a trip through Python (copy_file_range may even share blocks
# on file systems that can); each refuses some pairs of files, plain reads never do.
_COPY_STEPS: list[Callable[[int, int, int], int]] = [
    lambda fin, fout, count: os.sendfile(fout, fin, None, count),
    _read_write,
]
if hasattr(os, "copy_file_range"):
    _COPY_STEPS.insert(0, lambda fin, fout, count: os.copy_file_range(fin, fout, count))


def _download(store: ObjectStore, target: str, asset: AssetFile, times: tuple[int, int]) -> None:
    expected = Digests(asset.md5, asset.sha256, asset.length)
    store.get_file(asset.sha256, Path(target), expected=expected, name=asset.bag_path)
    os.chmod(target, 0o644)  # get_file's temporary file is private
    os.utime(target, ns=times)


# --- text -----------------------------------------------------------------------------------


def _utc(moment: dt.datetime) -> dt.datetime:
    """An aware UTC datetime; a naive one is taken as UTC (never as local time, which
    would make the bag depend on the machine)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _times(created: dt.datetime) -> tuple[int, int]:
    ns = (_utc(created) - _EPOCH) // dt.timedelta(microseconds=1) * 1000
    return ns, ns


def _one_line(value: object) -> str:
    """A label value on one line: line breaks become spaces."""
    return re.sub(r"[\r\n]+", " ", str(value)).strip()


def _fold(text: str) -> str:
    """A multi-line value as folded continuation lines (RFC 8493 section 2.2.2): each
    further line starts with two spaces; blank lines and edge whitespace are dropped."""
    lines = (line.strip() for line in text.splitlines())
    return "\n  ".join(line for line in lines if line)


def _encode_url(url: str) -> str:
    """A URL without the whitespace that separates fetch.txt fields."""
    for char, code in ((" ", "%20"), ("\t", "%09"), ("\r", "%0D"), ("\n", "%0A")):
        url = url.replace(char, code)
    return url
