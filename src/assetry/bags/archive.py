"""Reproducible archives of a bag directory: the same bag gives the same bytes.

Every entry sits under one top folder named like the bag directory, in sorted order,
with one fixed modification time, fixed permissions (0644 for files, 0755 for
directories, whatever they are on disk: a bag of read-only hard links and a bag of
copies archive identically), owner and group 0 and no user or group names. A gzip
stream has mtime 0 and no file name in its header; zip entries are deflated and carry
the fixed date (in UTC; zip cannot store dates before 1980, so earlier ones are moved
to 1980-01-01). Compressed bytes also depend on the zlib library, which is the same
for a given Python build.

The archive is written to a temporary file next to ``dest`` and renamed into place.

``export_archive`` writes the archive of a dataset version's bag into a folder shared
with other exports: the bag folder is built in a private staging folder inside it
(hidden, uniquely named, removed afterwards), so a folder bag of the same name there is
never touched. The finished archive is hard-linked into place, which never replaces a
file: a crash leaves either no archive or the whole one (and at worst a hidden
``.<name>.<random>.staging`` folder, which the exporting process holds locked while it
works: the next export into the folder, and ``fsck --repair`` for the catalog's own bag
folder, remove those no process holds). Since archives are reproducible, an archive already
there with the same bytes is the answer (its path is returned, the file left as it is);
one with other bytes is a ``ConflictError`` naming it.
"""

from __future__ import annotations

import datetime as dt
import errno
import filecmp
import gzip
import os
import shutil
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, cast

from assetry.errors import BagError, ConflictError, ValidationError

try:
    import fcntl
except ImportError:  # no file locks (Windows): staging folders are never judged abandoned
    fcntl = None  # type: ignore[assignment]
from assetry.faults import fault_point

if TYPE_CHECKING:
    from assetry.records.bag import BagContent
    from assetry.store.base import ObjectStore

FORMATS = {"zip": ".zip", "tgz": ".tgz", "tar.gz": ".tar.gz", "tar": ".tar"}
FILE_MODE = 0o644
DIR_MODE = 0o755
COMPRESS_LEVEL = 6
_ZIP_MIN = int(dt.datetime(1980, 1, 1, tzinfo=dt.UTC).timestamp())
_ZIP_MAX = int(dt.datetime(2107, 12, 31, 23, 59, 58, tzinfo=dt.UTC).timestamp())
_CHUNK = 1 << 20


def archive_bag(
    bag_dir: Path, fmt: str, dest: Path | None = None, mtime: dt.datetime | None = None
) -> Path:
    """Archive the bag directory ``bag_dir`` as ``fmt`` ('zip', 'tgz', 'tar.gz' or 'tar')
    and return the archive's path.

    ``dest`` defaults to the bag directory's path plus the format's suffix; it must not
    exist (``ConflictError``). Every entry gets the time ``mtime`` (default: the newest
    modification time in the bag; pass the version's creation time to be independent of
    the files on disk, e.g. of hard-linked assets, which keep the store's times). Only
    regular files and directories can be archived (``ValidationError`` otherwise).
    """
    bag_dir = Path(bag_dir)
    if fmt not in FORMATS:
        known = ", ".join(FORMATS)
        raise ValidationError(f"unknown archive format {fmt!r}: use one of {known}")
    if not bag_dir.is_dir():
        raise ValidationError(f"{bag_dir} is not a bag directory")
    bag_dir = bag_dir.resolve()
    entries = list(_entries(bag_dir))
    dest = Path(dest) if dest is not None else bag_dir.with_name(bag_dir.name + FORMATS[fmt])
    if dest.exists() or dest.is_symlink():
        raise ConflictError(f"{dest} exists: give the archive a new name")
    if dest.resolve().is_relative_to(bag_dir):
        raise ValidationError(f"{dest} is inside the bag it would archive")
    if mtime is None:
        stamp = max(int(e[2].st_mtime) for e in entries)
    else:
        stamp = int(_utc(mtime).timestamp())
    if fmt == "zip":
        stamp = min(max(stamp, _ZIP_MIN), _ZIP_MAX)
    stamp = max(stamp, 0)

    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w+b") as out:
            if fmt == "zip":
                _write_zip(out, bag_dir.name, entries, stamp)
            else:
                _write_tar(out, bag_dir.name, entries, stamp, compress=fmt != "tar")
        os.chmod(tmp_name, FILE_MODE)
        os.utime(tmp_name, (stamp, stamp))
        os.replace(tmp_name, dest)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return dest


def export_archive(
    content: BagContent,
    folder: Path,
    name: str,
    fmt: str,
    store: ObjectStore,
    *,
    materialize: bool = True,
    link: bool = False,
) -> Path:
    """Write the bag of ``content`` as the archive ``folder/<name><suffix>`` (its top
    folder ``name``) and return its path.

    The bag folder is built in a private staging folder inside ``folder`` and removed
    afterwards: a bag folder ``folder/name`` is left as it is. An archive already at the
    target with the same bytes is kept and its path returned; with other bytes (another
    version's content under that name, a bag with ``materialize`` set differently, a
    damaged file) it is a ``ConflictError`` naming it, and so is anything there that is
    not a regular file.
    """
    if fmt not in FORMATS:
        known = ", ".join(FORMATS)
        raise ValidationError(f"unknown archive format {fmt!r}: use one of {known}")
    folder = Path(folder)
    target = folder / f"{name}{FORMATS[fmt]}"
    _check_archive_target(target)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        remove_abandoned_staging(folder)
        # Locked before it takes the name another export's clean-up looks for.
        preparing = Path(
            tempfile.mkdtemp(prefix=f".{name[:200]}.", suffix=".preparing", dir=folder)
        )
        held = _hold(preparing)
        staging = preparing.with_name(preparing.name.removesuffix(PREPARING) + STAGING)
        os.rename(preparing, staging)
    except OSError as err:
        raise BagError(f"cannot write the archive into {folder}: {err.strerror or err}") from None
    try:
        from assetry.bags.writer import write_bag

        bag_dir = write_bag(content, staging / name, store, materialize=materialize, link=link)
        built = archive_bag(bag_dir, fmt, dest=staging / target.name, mtime=content.created)
        fault_point("export.before_archive_link")
        return _place(built, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        os.close(held)


STAGING = ".staging"
PREPARING = ".preparing"
_LOCK = ".lock"


def _hold(staging: Path) -> int:
    """Lock ``staging`` for this process (a file lock: released when the process ends,
    however it ends); return the descriptor to close when done."""
    fd = os.open(staging / _LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def abandoned_staging(folder: Path) -> list[Path]:
    """Staging folders of exports into ``folder`` that no running process holds: what a
    crashed archive export left."""
    found: list[Path] = []
    if fcntl is None:
        return found
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return found
    for entry in entries:
        if not (entry.name.startswith(".") and entry.name.endswith(STAGING)):
            continue
        if entry.is_symlink() or not entry.is_dir():
            continue
        try:
            fd = os.open(entry / _LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # an export is writing it now
        finally:
            os.close(fd)
        found.append(entry)
    return found


def remove_abandoned_staging(folder: Path) -> list[Path]:
    """Remove what crashed archive exports into ``folder`` left; return what was removed."""
    removed = abandoned_staging(folder)
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed


def _check_archive_target(target: Path) -> None:
    if target.is_symlink():
        raise ConflictError(f"{target} is a symbolic link: remove it or choose another dest")
    if target.exists() and not target.is_file():
        raise ConflictError(f"{target} exists and is not a file: remove it or choose another dest")


def _place(built: Path, target: Path) -> Path:
    """Put the archive ``built`` at ``target`` unless a file is there already, without ever
    replacing one; return ``target`` when it holds the same bytes as ``built``."""
    try:
        os.link(built, target)  # atomic, and fails on anything already there
        return target
    except FileExistsError:
        pass
    except OSError as err:  # no hard links here: rename, after a check
        if err.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK):
            raise
        if not os.path.lexists(target):
            os.rename(built, target)
            return target
    _check_archive_target(target)
    if os.path.getsize(built) == os.path.getsize(target) and filecmp.cmp(
        built, target, shallow=False
    ):
        return target
    raise ConflictError(
        f"{target} exists with other content than this export (archives of one version are "
        "byte-identical): remove it or choose another dest"
    )


Entry = tuple[str, Path, os.stat_result]  # (name inside the top folder, path, lstat)


def _entries(bag_dir: Path) -> Iterator[Entry]:
    """The bag's directories and files, depth first, each folder's entries sorted."""
    root = bag_dir.lstat()
    yield "", bag_dir, root
    yield from _walk(bag_dir, "")


def _walk(directory: Path, prefix: str) -> Iterator[Entry]:
    for name in sorted(os.listdir(directory)):
        path = directory / name
        info = path.lstat()
        rel = f"{prefix}{name}"
        if stat.S_ISDIR(info.st_mode):
            yield rel, path, info
            yield from _walk(path, rel + "/")
        elif stat.S_ISREG(info.st_mode):
            yield rel, path, info
        else:
            raise ValidationError(f"{path} is neither a file nor a folder: cannot archive it")


def _write_zip(out: IO[bytes], top: str, entries: list[Entry], stamp: int) -> None:
    date_time = dt.datetime.fromtimestamp(stamp, dt.UTC).timetuple()[:6]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as zf:
        for rel, path, info in entries:
            is_dir = stat.S_ISDIR(info.st_mode)
            name = f"{top}/{rel}".rstrip("/") + ("/" if is_dir else "")
            zinfo = zipfile.ZipInfo(name, date_time)
            zinfo.create_system = 3  # Unix, so that the permissions below are read
            if is_dir:
                zinfo.external_attr = ((stat.S_IFDIR | DIR_MODE) << 16) | 0x10
                zinfo.compress_type = zipfile.ZIP_STORED
                zf.writestr(zinfo, b"")
                continue
            zinfo.external_attr = (stat.S_IFREG | FILE_MODE) << 16
            zinfo.compress_type = zipfile.ZIP_DEFLATED
            zinfo.file_size = info.st_size
            with open(path, "rb") as source, zf.open(zinfo, "w") as target:
                shutil.copyfileobj(source, target, _CHUNK)


def _write_tar(out: IO[bytes], top: str, entries: list[Entry], stamp: int, compress: bool) -> None:
    # Not tarfile's "w:gz": that would put the file name and the time in the gzip header.
    gz = (
        gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=COMPRESS_LEVEL)
        if compress
        else None
    )
    stream = out if gz is None else cast(IO[bytes], gz)
    try:
        with tarfile.TarFile(
            fileobj=stream, mode="w", format=tarfile.PAX_FORMAT, copybufsize=_CHUNK
        ) as tar:
            for rel, path, info in entries:
                tinfo = tarfile.TarInfo(f"{top}/{rel}".rstrip("/"))
                tinfo.mtime = stamp
                tinfo.uid = tinfo.gid = 0
                tinfo.uname = tinfo.gname = ""
                if stat.S_ISDIR(info.st_mode):
                    tinfo.type = tarfile.DIRTYPE
                    tinfo.mode = DIR_MODE
                    tar.addfile(tinfo)
                    continue
                tinfo.mode = FILE_MODE
                tinfo.size = info.st_size
                with open(path, "rb") as source:
                    tar.addfile(tinfo, source)
    finally:
        if gz is not None:
            gz.close()


def _utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)
