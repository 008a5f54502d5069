"""Getting at a bag: its folder (extracting an archive), its declaration, safe paths.

``unsafe_reason`` is the one rule for paths from manifests, fetch.txt and archive entries
alike. ``BagStructure`` holds what a bag's tag files declare; bagit.txt and bag-info.txt
are read here, manifests and fetch.txt in ``validate``. Readers collect problems instead
of raising them, so that validation can report all of them at once.

Archives (``.zip``, ``.tgz``/``.tar.gz``, ``.tar``, ``.tar.bz2``, ``.tar.xz``) are
extracted into a fresh staging folder. Every entry is checked before a byte is written:
no absolute paths, no ``..``, no links, devices or FIFOs, no entry larger than it declares,
no absurd totals. Files are written by this module (exclusive create, streamed, capped),
never by ``zipfile``/``tarfile`` extraction; tarfile's ``data`` filter is consulted as a
second opinion where Python has it. On any failure the staging folder is removed, so
nothing is left behind and nothing is ever written outside it.
"""

from __future__ import annotations

import codecs
import os
import re
import shutil
import stat
import tarfile
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from assetry.errors import BagError

MAX_ENTRIES = 1_000_000
MAX_TOTAL_BYTES = 1 << 40  # 1 TiB declared: no real bag, a decompression bomb
CHUNK_SIZE = 1 << 20

_SUFFIXES = (
    (".zip", "zip"),
    (".tar.gz", "tar"),
    (".tgz", "tar"),
    (".tar", "tar"),
    (".tar.bz2", "tar"),
    (".tbz2", "tar"),
    (".tar.xz", "tar"),
    (".txz", "tar"),
)
_DRIVE = re.compile(r"[A-Za-z]:")
_ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    tarfile.TarError,
    OSError,
    EOFError,
    zlib.error,
    RuntimeError,  # an encrypted zip entry
    NotImplementedError,  # an unsupported zip compression method
    ValueError,
)


def unsafe_reason(path: str) -> str | None:
    """Why the '/'-separated relative ``path`` (from a manifest, fetch.txt or an archive)
    could reach outside the folder it is relative to, or None when it cannot.

    Backslashes count as separators too, so a bag that is safe here stays safe on Windows.
    """
    if not path:
        return "is empty"
    if "\x00" in path:
        return "holds a NUL character"
    if path.startswith("/"):
        return "is an absolute path"
    if path.startswith("\\"):
        return "starts with a backslash (an absolute path on Windows)"
    if _DRIVE.match(path):
        return "starts with a drive letter"
    if path.startswith("~"):
        return "starts with '~' (a home directory)"
    if ".." in re.split(r"[/\\]", path):
        return "climbs out of the bag with '..'"
    return None


def is_inside(path: Path, folder: Path) -> bool:
    """True if ``path``, symbolic links resolved, is ``folder`` or inside it."""
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # a symbolic link loop (RuntimeError before 3.13)
        return False


def regular_file(full: Path, root: Path, rel: str) -> tuple[os.stat_result | None, str | None]:
    """The status of the file ``full`` (``rel`` inside the bag ``root``) when the bag may
    read it, else why not: a symbolic link is followed only when it stays inside the bag,
    and what it reaches must be a regular file. The one rule for every read of a bag file
    (validation walks the payload with it; ``bag_file`` checks the folders on the way)."""
    try:
        info = os.lstat(full)
        if stat.S_ISLNK(info.st_mode):
            if not is_inside(full, root):
                return None, f"{rel} is a symbolic link out of the bag"
            info = os.stat(full)
    except OSError as err:
        return None, f"cannot read {rel}: {err.strerror}"
    if not stat.S_ISREG(info.st_mode):
        return None, f"{rel} is not a regular file"
    return info, None


def bag_file(root: Path, rel: str) -> Path | None:
    """The path of the file ``rel`` ('/'-separated) of the bag at ``root`` for reading it,
    or None when nothing is there.

    As ``validate()`` has it: every folder on the way must be a real folder (not a
    symbolic link, even one that stays inside the bag), and the file must be a regular
    file or a symbolic link to one inside the bag. Anything else is a ``BagError`` that
    names the file: reading a bag never leaves it.
    """
    parts = rel.split("/")
    here = Path(root)
    for depth, part in enumerate(parts[:-1], 1):
        here = here / part
        try:
            info = os.lstat(here)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as err:
            raise BagError(f"cannot read {rel}: {err.strerror}") from None
        if stat.S_ISLNK(info.st_mode):
            folder = "/".join(parts[:depth])
            raise BagError(
                f"cannot read {rel}: the folder {folder}/ is a symbolic link "
                "(a bag's folders must be real folders)"
            )
        if not stat.S_ISDIR(info.st_mode):
            return None
    full = here / parts[-1]
    if not os.path.lexists(full):
        return None
    _, problem = regular_file(full, Path(root), rel)
    if problem is not None:
        raise BagError(problem)
    return full


def archive_kind(path: Path) -> str | None:
    """'zip' or 'tar' for a supported archive name, else None."""
    name = path.name.lower()
    for suffix, kind in _SUFFIXES:
        if name.endswith(suffix):
            return kind
    return None


def open_bag_path(path: Path, work_dir: Path | None = None) -> Path:
    """The root folder of the bag at ``path``.

    A folder is used as it is. An archive is extracted into a new staging folder inside
    ``work_dir`` (default: next to the archive, or the system temporary folder when that
    is not writable); the bag root returned is the staging folder itself when
    ``bagit.txt`` is at the top of the archive, else its single top-level folder.
    """
    path = Path(path)
    if path.is_dir():
        return path
    if not path.exists():
        raise BagError(f"{path}: no such bag folder or archive")
    kind = archive_kind(path)
    if kind is None:
        raise BagError(
            f"{path} is neither a bag folder nor an archive (.zip, .tgz, .tar.gz, .tar, "
            ".tar.bz2, .tar.xz)"
        )
    staging = _staging_dir(path, work_dir)
    try:
        if kind == "zip":
            _extract_zip(path, staging)
        else:
            _extract_tar(path, staging)
        return _bag_root(path, staging)
    except BaseException as err:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(err, _ARCHIVE_ERRORS):
            raise BagError(f"{path}: cannot extract the archive: {err}") from None
        raise


def _staging_dir(archive: Path, work_dir: Path | None) -> Path:
    stem = re.sub(r"(\.tar)?\.[^.]*$", "", archive.name) or "bag"
    try:
        if work_dir is not None:
            base: Path | None = Path(work_dir)
            Path(work_dir).mkdir(parents=True, exist_ok=True)
        else:
            base = archive.parent if os.access(archive.parent, os.W_OK) else None
        return Path(tempfile.mkdtemp(prefix=f"{stem}-", dir=base))
    except OSError as err:
        raise BagError(f"cannot create a folder to extract {archive} into: {err}") from None


def _entry_name(archive: Path, raw: str) -> str:
    """The entry's path, checked; '' for the archive's own top folder."""
    name = raw.replace("\\", "/")
    reason = unsafe_reason(name)
    if reason is not None:
        raise BagError(f"{archive}: refusing entry {raw!r}: it {reason}")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return "/".join(parts)


def _target(archive: Path, staging: Path, name: str) -> Path:
    target = staging.joinpath(*name.split("/"))
    if not is_inside(target, staging):
        raise BagError(f"{archive}: refusing entry {name!r}: it resolves outside the bag")
    return target


def _write(archive: Path, source: IO[bytes], target: Path, declared: int, name: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with open(target, "xb") as out:  # never follows or overwrites anything already there
        while chunk := source.read(CHUNK_SIZE):
            written += len(chunk)
            if written > declared:
                raise BagError(
                    f"{archive}: refusing entry {name!r}: it holds more than the "
                    f"{declared} bytes it declares"
                )
            out.write(chunk)
    if written != declared:
        raise BagError(f"{archive}: entry {name!r} holds {written} bytes, not {declared}")


def _check_totals(archive: Path, entries: int, total: int) -> None:
    if entries > MAX_ENTRIES:
        raise BagError(f"{archive}: refusing an archive of more than {MAX_ENTRIES} entries")
    if total > MAX_TOTAL_BYTES:
        raise BagError(
            f"{archive}: refusing an archive that declares {total} bytes "
            f"(more than {MAX_TOTAL_BYTES})"
        )


def _extract_zip(archive: Path, staging: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        _check_totals(archive, len(infos), sum(i.file_size for i in infos))
        free = shutil.disk_usage(staging).free
        if sum(i.file_size for i in infos) > free:
            raise BagError(f"{archive}: not enough free space to extract it ({free} bytes)")
        seen: set[str] = set()
        for info in infos:
            name = _entry_name(archive, info.filename)
            kind = stat.S_IFMT(info.external_attr >> 16)
            if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
                what = "a symbolic link" if kind == stat.S_IFLNK else "a special file"
                raise BagError(f"{archive}: refusing entry {info.filename!r}: it is {what}")
            if not name:
                continue
            if name in seen:
                raise BagError(f"{archive}: entry {info.filename!r} appears twice")
            seen.add(name)
            target = _target(archive, staging, name)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            with zf.open(info) as source:
                _write(archive, source, target, info.file_size, info.filename)


def _extract_tar(archive: Path, staging: Path) -> None:
    data_filter = getattr(tarfile, "data_filter", None)
    count = total = 0
    seen: set[str] = set()
    # A tar (often compressed) lists its sizes only as it is read: the running total of
    # what it declares is held against the space free when extraction began.
    free = shutil.disk_usage(staging).free
    with tarfile.open(archive, "r:*") as tf:
        for member in tf:
            count += 1
            total += max(member.size, 0)
            _check_totals(archive, count, total)
            if total > free:
                raise BagError(f"{archive}: not enough free space to extract it ({free} bytes)")
            name = _entry_name(archive, member.name)
            if member.issym() or member.islnk():
                kind = "a symbolic link" if member.issym() else "a hard link"
                raise BagError(f"{archive}: refusing entry {member.name!r}: it is {kind}")
            if not (member.isreg() or member.isdir()):
                raise BagError(
                    f"{archive}: refusing entry {member.name!r}: it is a device, FIFO or "
                    "other special file"
                )
            if data_filter is not None:
                try:
                    data_filter(member, str(staging))
                except tarfile.FilterError as err:
                    raise BagError(f"{archive}: refusing entry {member.name!r}: {err}") from None
            if not name:
                continue
            if name in seen:
                raise BagError(f"{archive}: entry {member.name!r} appears twice")
            seen.add(name)
            target = _target(archive, staging, name)
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            source = tf.extractfile(member)
            if source is None:
                raise BagError(f"{archive}: entry {member.name!r} has no data")
            with source:
                _write(archive, source, target, member.size, member.name)
        # tarfile keeps every member it has read; that is bounded by MAX_ENTRIES above.


def _bag_root(archive: Path, staging: Path) -> Path:
    if (staging / "bagit.txt").exists():
        return staging
    tops = [p for p in staging.iterdir() if p.name != "__MACOSX"]
    if len(tops) == 1 and tops[0].is_dir() and not tops[0].is_symlink():
        return tops[0]
    raise BagError(
        f"{archive} holds no bag: expected bagit.txt at its top or in its single top-level "
        f"folder, found {sorted(p.name for p in tops)[:10]}"
    )


# --- bagit.txt, bag-info.txt -------------------------------------------------------------

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_VERSION = re.compile(r"(\d+)\.(\d+)")
_ESCAPE = re.compile(r"%(0[DdAa]|25)")
_BAGIT_LABELS = ("BagIt-Version", "Tag-File-Character-Encoding")


@dataclass(frozen=True)
class Manifest:
    """A manifest or tag manifest: bag-relative path -> hex digest (first listing)."""

    name: str
    algorithm: str
    tag: bool
    entries: dict[str, str]


@dataclass(frozen=True)
class FetchEntry:
    """One fetch.txt line: where a payload file's bytes are, and how many (if known)."""

    url: str
    length: int | None
    path: str


@dataclass
class BagStructure:
    """What a bag's tag files declare, with the problems found reading them."""

    root: Path
    version: str = "?"
    version_info: tuple[int, int] = (1, 0)
    encoding: str = "utf-8"
    info: list[tuple[str, str]] = field(default_factory=list)
    manifests: list[Manifest] = field(default_factory=list)
    fetch: list[FetchEntry] = field(default_factory=list)
    problems: list[BagError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def checksums(self, path: str) -> dict[str, str]:
        """Algorithm -> digest for ``path`` in the payload manifests."""
        return {
            m.algorithm: m.entries[path] for m in self.manifests if not m.tag and path in m.entries
        }

    def problem(self, message: str) -> None:
        self.problems.append(BagError(message))


def split_lines(text: str) -> list[str]:
    """Lines ended by CRLF, LF or CR (not the other breaks str.splitlines knows)."""
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def decode_path(raw: str, version_info: tuple[int, int]) -> str:
    """Undo the percent-encoding of CR, LF (and, from BagIt 1.0, '%') in a listed path."""
    decoded = {"0d": "\r", "0a": "\n", "25": "%"}
    if version_info < (1, 0):
        decoded.pop("25")
    return _ESCAPE.sub(lambda m: decoded.get(m[1].lower(), m[0]), raw)


def read_bagit_txt(bag: BagStructure) -> None:
    """Read bagit.txt into ``bag`` (``BagError`` if there is none: not a bag)."""
    path = bag_file(bag.root, "bagit.txt")
    if path is None:
        raise BagError(f"{bag.root} is not a bag: bagit.txt is missing")
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise BagError(f"cannot read {bag.root / 'bagit.txt'}: {err.strerror}") from None
    if raw.startswith(codecs.BOM_UTF8):
        bag.problem("bagit.txt must not start with a byte-order mark")
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        bag.problem("bagit.txt is not UTF-8")
        text = raw.decode("utf-8", "replace")
    values: dict[str, str] = {}
    for number, line in enumerate(split_lines(text), 1):
        label, colon, value = line.partition(":")
        if not line.strip():
            continue
        if not colon:
            bag.problem(f"bagit.txt line {number} is not 'Label: value': {line!r}")
            continue
        if label != label.strip():
            bag.problem(f"bagit.txt: whitespace before the colon in {line!r}")
        label = label.strip()
        if label not in _BAGIT_LABELS:
            bag.problem(f"bagit.txt: unknown element {label!r} (it holds only {_BAGIT_LABELS})")
        elif label in values:
            bag.problem(f"bagit.txt: {label} appears twice")
        else:
            if value != " " + value.strip():
                bag.warnings.append(f"bagit.txt: unusual whitespace in {line!r}")
            values[label] = value.strip()
    version = values.get("BagIt-Version")
    match = _VERSION.fullmatch(version or "")
    if version is None:
        bag.problem("bagit.txt lacks BagIt-Version")
    elif match is None:
        bag.problem(f"bagit.txt: BagIt-Version must be MAJOR.MINOR numbers, not {version!r}")
    else:
        bag.version, bag.version_info = version, (int(match[1]), int(match[2]))
    encoding = values.get("Tag-File-Character-Encoding")
    if encoding is None:
        bag.problem("bagit.txt lacks Tag-File-Character-Encoding")
        return
    try:
        name = codecs.lookup(encoding).name
        "x".encode(name)  # a bytes-to-bytes codec such as 'hex' is no text encoding
        bag.encoding = name
    except (LookupError, UnicodeError):
        bag.problem(f"bagit.txt: unknown Tag-File-Character-Encoding {encoding!r}")


def read_tag(bag: BagStructure, name: str) -> str | None:
    """The text of tag file ``name`` in the bag's encoding, or None if it is absent
    (``BagError`` if it leads out of the bag or is no regular file: see ``bag_file``)."""
    path = bag_file(bag.root, name)
    if path is None:
        return None
    try:
        raw = path.read_bytes()
    except OSError as err:
        bag.problem(f"cannot read {name}: {err.strerror}")
        return None
    try:
        text = raw.decode(bag.encoding)
    except UnicodeDecodeError as err:
        bag.problem(f"{name} is not valid {bag.encoding}: {err.reason} at byte {err.start}")
        text = raw.decode(bag.encoding, "replace")
    if text.startswith("\ufeff"):  # UTF-16 decoding drops its BOM; a UTF-8 one is odd
        bag.warnings.append(f"{name} starts with a byte-order mark")
        text = text[1:]
    return text


def parse_info(bag: BagStructure, text: str) -> list[tuple[str, str]]:
    """bag-info.txt's (label, value) pairs in order; folded lines joined."""
    pairs: list[tuple[str, str]] = []
    for number, line in enumerate(split_lines(text), 1):
        if not line.strip():
            continue
        if line[0] in " \t" and pairs:  # a folded continuation of the previous value
            label, value = pairs[-1]
            pairs[-1] = (label, f"{value} {line.strip()}".strip())
            continue
        label, colon, value = line.partition(":")
        if not colon or not label.strip():
            bag.problem(f"bag-info.txt line {number} is not 'Label: value': {line!r}")
            continue
        pairs.append((label.strip(), value.strip()))
    return pairs
