"""Validation of BagIt bags (RFC 8493, and the 0.9x drafts older bags follow).

Written here rather than borrowed from bagit-python so that every problem is an assetry
error and all of them are collected before one is raised. The rules follow the Library of
Congress conformance suite: bag-info.txt is optional, but a file a tag manifest lists must
exist; bagit.txt has exactly its two elements, no BOM and no space before a colon; a path
listed twice with different checksums is invalid (with the same checksum: a warning before
BagIt 1.0, invalid from 1.0); entries that differ only in case or Unicode normalization are
one file on some file systems (a warning, and one present file satisfies them all);
md5sum's ``*`` binary marker and a leading ``./`` are tolerated with a warning.

Problems are reported in this order: structure, tag files (presence, checksums), payload
completeness, payload checksums, Payload-Oxum. The first decides the exception:
``BagChecksumMismatch`` when it is a checksum mismatch, ``BagError`` otherwise; the message
lists every problem.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from assetry.bags.extract import (
    BagStructure,
    FetchEntry,
    Manifest,
    bag_file,
    decode_path,
    parse_info,
    read_bagit_txt,
    read_tag,
    regular_file,
    split_lines,
    unsafe_reason,
)
from assetry.errors import BagChecksumMismatch, BagError

CHUNK_SIZE = 1 << 20
HASH_THREADS = 4
HASH_BATCH = 64  # files per hashing task
MAX_LISTED_PROBLEMS = 25
_SYSTEM_FILES = frozenset(
    {".ds_store", "thumbs.db", "desktop.ini", ".spotlight-v100", ".trashes", ".fseventsd"}
)
_OXUM = re.compile(r"(\d+)\.(\d+)")
ALGORITHMS = frozenset({"md5", "sha1", "sha224", "sha256", "sha384", "sha512"})
_MANIFEST_NAME = re.compile(r"(tag)?manifest-([A-Za-z0-9]+)\.txt")
_MANIFEST_LINE = re.compile(r"\s*(\S+)[ \t]+(.+)")
_FETCH_LINE = re.compile(r"\s*(\S+)[ \t]+(\S+)[ \t]+(.+)")


@dataclass
class BagReport:
    """The outcome of a validation that found no error."""

    root: Path
    version: str
    algorithms: list[str]
    payload_files: int
    payload_bytes: int
    verified_files: int  # files whose checksums were computed (0 when fast)
    pending: list[str] = field(default_factory=list)  # in fetch.txt, not fetched yet
    warnings: list[str] = field(default_factory=list)
    fast: bool = False

    @property
    def complete(self) -> bool:
        """True when every file the manifests list is present."""
        return not self.pending


def combine(subject: str, problems: list[BagError]) -> BagError:
    """One exception for ``problems``: the first one's class, every message."""
    first = problems[0]
    listed = [str(p) for p in problems[:MAX_LISTED_PROBLEMS]]
    if len(problems) > MAX_LISTED_PROBLEMS:
        listed.append(f"and {len(problems) - MAX_LISTED_PROBLEMS} more")
    count = f"{len(problems)} problems: " if len(problems) > 1 else ""
    message = f"{subject}: {count}{'; '.join(listed)}"
    if isinstance(first, BagChecksumMismatch):
        err: BagError = BagChecksumMismatch(
            first.path, first.algorithm, first.expected, first.found
        )
        err.args = (message,)
        return err
    return BagError(message)


def checksum_error(
    path: str, algorithm: str, expected: str, found: str, origin: str | None = None
) -> BagChecksumMismatch:
    """A mismatch on ``path`` (bag-relative); ``origin`` names where the bytes came from."""
    err = BagChecksumMismatch(path, algorithm, expected, found)
    source = f" (fetched from {origin})" if origin else ""
    err.args = (f"{path}{source}: {algorithm} is {found}, expected {expected}",)
    return err


def validate_bag(
    root: Path,
    fast: bool = False,
    allow_incomplete: bool = False,
    may_stay_remote: Callable[[str], bool] | None = None,
) -> BagReport:
    """Validate the bag at ``root``; return a report, or raise with every problem found.

    ``fast`` checks structure, completeness and Payload-Oxum without reading the payload.
    ``allow_incomplete`` accepts payload files that fetch.txt lists and that are not
    fetched yet (they are listed in ``BagReport.pending``); otherwise they are an error,
    except those for which ``may_stay_remote(path)`` is true (external references).
    """
    root = Path(root)
    bag = load_structure(root)
    problems, warnings = list(bag.problems), list(bag.warnings)
    tags = _match_tags(bag, problems)
    if not fast:  # before the payload: a manifest that fails here explains the rest
        problems += _verify(root, tags)
    disk = _walk_payload(root, problems)
    payload, absent = _match_payload(bag, disk, problems, warnings)
    fetchable = {e.path for e in bag.fetch}
    pending = [p for p in absent if p in fetchable]
    _warn_system_files(disk, bag, warnings)
    missing = [p for p in pending if may_stay_remote is None or not may_stay_remote(p)]
    if missing and not allow_incomplete:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        problems.append(
            BagError(
                f"the bag is incomplete: {len(missing)} file(s) listed in fetch.txt are "
                f"not fetched yet ({shown}); materialize() fetches them"
            )
        )
    verified = 0
    if not fast:
        problems += _verify(root, payload)
        verified = len(tags) + len(payload)
    if not pending:
        problems += _check_oxum(bag, disk)
    if problems:
        raise combine(f"invalid bag {root}", problems)
    return BagReport(
        root=root,
        version=bag.version,
        algorithms=sorted({m.algorithm for m in bag.manifests if not m.tag}),
        payload_files=len(disk),
        payload_bytes=sum(disk.values()),
        verified_files=verified,
        pending=pending,
        warnings=list(dict.fromkeys(warnings)),
        fast=fast,
    )


# --- manifests and fetch.txt ----------------------------------------------------------


def load_structure(root: Path) -> BagStructure:
    """Parse the tag files of the bag at ``root`` (``BagError`` only if it is no bag or a
    tag file leads out of it)."""
    bag = BagStructure(Path(root))
    read_bagit_txt(bag)
    text = read_tag(bag, "bag-info.txt")
    if text is not None:
        bag.info = parse_info(bag, text)
    try:
        names = sorted(os.listdir(bag.root))
    except OSError as err:
        raise BagError(f"cannot read the bag folder {bag.root}: {err.strerror}") from None
    for name in names:
        match = _MANIFEST_NAME.fullmatch(name)
        # Anything but a real folder is read (and refused there if it leaves the bag).
        path = bag.root / name
        if match is not None and (os.path.islink(path) or not os.path.isdir(path)):
            _read_manifest(bag, name, bool(match[1]), match[2].lower())
    if not any(not m.tag for m in bag.manifests):
        bag.problem("the bag has no payload manifest (manifest-<algorithm>.txt)")
    text = read_tag(bag, "fetch.txt")
    if text is not None:
        bag.fetch = _parse_fetch(bag, text)
    return bag


def _clean_path(bag: BagStructure, raw: str, source: str) -> str | None:
    path = raw
    if path.startswith("*"):
        bag.warnings.append(f"{source} marks {raw!r} with md5sum's binary flag '*'")
        path = path[1:]
    path = decode_path(path, bag.version_info)
    reason = unsafe_reason(path)
    if reason is not None:
        bag.problem(f"{source} lists {raw!r}, which {reason}")
        return None
    if path.startswith("./"):
        bag.warnings.append(f"{source} lists {raw!r} with a leading './'")
    return "/".join(p for p in path.split("/") if p not in ("", "."))


def _read_manifest(bag: BagStructure, name: str, tag: bool, algorithm: str) -> None:
    if algorithm not in ALGORITHMS:
        bag.problem(f"{name}: unsupported checksum algorithm {algorithm!r}")
        return
    text = read_tag(bag, name)
    if text is None:
        return
    size = hashlib.new(algorithm, usedforsecurity=False).digest_size * 2
    entries: dict[str, str] = {}
    for number, line in enumerate(split_lines(text), 1):
        match = _MANIFEST_LINE.fullmatch(line)
        if not line.strip():
            continue
        if match is None:
            bag.problem(f"{name} line {number} is not '<checksum> <path>': {line!r}")
            continue
        digest = match[1].lower()
        if len(digest) != size or not all(c in "0123456789abcdef" for c in digest):
            bag.problem(f"{name} line {number}: {match[1]!r} is not a {algorithm} checksum")
            continue
        path = _clean_path(bag, match[2], name)
        if path is None:
            continue
        if not tag and not path.startswith("data/"):
            bag.problem(f"{name} lists {path!r}, which is outside the payload directory data/")
        elif path not in entries:
            entries[path] = digest
        elif entries[path] != digest:
            bag.problem(f"{path} is listed twice in {name} with different checksums")
        elif bag.version_info >= (1, 0):
            bag.problem(f"{path} is listed more than once in {name}")
        else:
            bag.warnings.append(f"{path} is listed more than once in {name}")
    bag.manifests.append(Manifest(name, algorithm, tag, entries))


def _parse_fetch(bag: BagStructure, text: str) -> list[FetchEntry]:
    listed = {p for m in bag.manifests if not m.tag for p in m.entries}
    entries: dict[str, FetchEntry] = {}
    for number, line in enumerate(split_lines(text), 1):
        match = _FETCH_LINE.fullmatch(line)
        if not line.strip():
            continue
        if match is None:
            bag.problem(f"fetch.txt line {number} is not '<url> <length> <path>': {line!r}")
            continue
        url, length, raw = match[1], match[2], match[3]
        if not urlparse(url).scheme:
            bag.problem(f"fetch.txt line {number}: {url!r} is not a URL")
        number_ok = length.isascii() and length.isdigit()
        if length != "-" and not number_ok:
            bag.problem(f"fetch.txt line {number}: length {length!r} is not a number or '-'")
        path = _clean_path(bag, raw, "fetch.txt")
        if path is None:
            continue
        if not path.startswith("data/"):
            bag.problem(f"fetch.txt lists {path!r}, which is outside the payload directory data/")
        elif path in entries:
            bag.problem(f"fetch.txt lists {path} twice")
        else:
            if path not in listed:
                bag.problem(f"fetch.txt lists {path}, which no payload manifest lists")
            size = int(length) if number_ok else None
            entries[path] = FetchEntry(url, size, path)
    return list(entries.values())


# --- the payload on disk ---------------------------------------------------------------


def _walk_payload(root: Path, problems: list[BagError]) -> dict[str, int]:
    """Bag-relative path -> size of every regular file under data/.

    Walked with ``os.scandir`` on strings: the entry types come with the listing, so a
    regular file costs one ``lstat`` (its size) and no path objects; a symbolic link is
    judged by ``regular_file``, the one rule for every read of a bag file."""
    data = root / "data"
    if data.is_symlink():
        problems.append(BagError("the payload directory data/ is a symbolic link"))
        return {}
    if not data.is_dir():
        problems.append(BagError("the payload directory data/ is missing"))
        return {}
    files: dict[str, int] = {}
    base = os.fspath(root)
    folders = [(os.fspath(data), "data")]
    while folders:
        folder, rel_folder = folders.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError as err:
            problems.append(BagError(f"cannot read {err.filename}: {err.strerror}"))
            continue
        for entry in entries:
            rel = f"{rel_folder}/{entry.name}"
            try:
                if entry.is_symlink():
                    if os.path.isdir(entry.path):
                        problems.append(BagError(f"{rel} is a symbolic link to a directory"))
                        continue
                    info, problem = regular_file(Path(entry.path), Path(base), rel)
                    if info is None:
                        problems.append(BagError(problem or f"cannot read {rel}"))
                    else:
                        files[rel] = info.st_size
                elif entry.is_dir(follow_symlinks=False):
                    folders.append((entry.path, rel))
                elif entry.is_file(follow_symlinks=False):
                    files[rel] = entry.stat(follow_symlinks=False).st_size
                else:
                    problems.append(BagError(f"{rel} is not a regular file"))
            except OSError as err:
                problems.append(BagError(f"cannot read {rel}: {err.strerror}"))
    return dict(sorted(files.items()))


def _fold(path: str) -> str:
    return unicodedata.normalize("NFC", path).casefold()


# Expected checksums of one file: (algorithm, digest, manifest name).
Expected = dict[str, list[tuple[str, str, str]]]


def _match_payload(
    bag: BagStructure, disk: dict[str, int], problems: list[BagError], warnings: list[str]
) -> tuple[Expected, list[str]]:
    """Pair payload manifest entries with files on disk; return the expected checksums
    of each present file and the listed paths that are absent (fetch.txt's first)."""
    by_nfc = {unicodedata.normalize("NFC", d): d for d in disk}
    fetchable = {e.path for e in bag.fetch}
    expected: Expected = defaultdict(list)
    pending: dict[str, None] = {}
    missing: dict[str, BagError] = {}
    unlisted: list[BagError] = []

    def present(path: str) -> str | None:
        if path in disk:
            return path
        return by_nfc.get(unicodedata.normalize("NFC", path))

    for manifest in bag.manifests:
        if manifest.tag:
            continue
        groups: dict[str, list[str]] = defaultdict(list)
        for path in manifest.entries:
            groups[_fold(path)].append(path)
        for variants in groups.values():
            if len(variants) > 1:
                warnings.append(
                    f"{manifest.name} lists {' and '.join(map(ascii, variants))}, which differ "
                    "only in case or Unicode normalization: one file on some file systems"
                )
        matched: set[str] = set()
        for path, digest in manifest.entries.items():
            actual = present(path)
            if actual is not None:
                if actual != path and len(groups[_fold(path)]) == 1:
                    warnings.append(
                        f"{manifest.name} lists {path!r}, found as {actual!r} "
                        "(another Unicode normalization)"
                    )
                expected[actual].append((manifest.algorithm, digest, manifest.name))
                matched.add(actual)
            elif any(
                present(other) is not None and manifest.entries[other] == digest
                for other in groups[_fold(path)]
            ):
                continue  # a case/normalization twin of a present file, same checksum
            elif path in fetchable:
                pending[path] = None
            else:
                missing.setdefault(
                    path, BagError(f"{path} is listed in {manifest.name} but missing")
                )
        unlisted += [
            BagError(f"{path} is in the payload but not listed in {manifest.name}")
            for path in disk
            if path not in matched
        ]
    folded: dict[str, list[str]] = defaultdict(list)
    for path in disk:
        folded[_fold(path)].append(path)
    for variants in folded.values():
        if len(variants) > 1:
            warnings.append(
                f"the payload holds {' and '.join(map(ascii, variants))}, which differ only in "
                "case or Unicode normalization: they collide on some file systems"
            )
    problems += list(missing.values()) + unlisted
    return dict(expected), list(pending) + list(missing)


def absent_payload(root: Path) -> list[str]:
    """Payload files the manifests list that are not in the bag (fetched or not)."""
    bag = load_structure(root)
    problems: list[BagError] = []
    _, absent = _match_payload(bag, _walk_payload(Path(root), problems), problems, [])
    return absent


def _match_tags(bag: BagStructure, problems: list[BagError]) -> Expected:
    expected: Expected = defaultdict(list)
    for manifest in bag.manifests:
        if not manifest.tag:
            continue
        for path, digest in manifest.entries.items():
            try:
                found = bag_file(bag.root, path)
            except BagError as err:
                problems.append(BagError(f"{manifest.name} lists {path}: {err}"))
                continue
            if found is None:
                problems.append(BagError(f"{path} is listed in {manifest.name} but missing"))
            else:
                expected[path].append((manifest.algorithm, digest, manifest.name))
    return dict(expected)


def _warn_system_files(disk: dict[str, int], bag: BagStructure, warnings: list[str]) -> None:
    listed = {p for m in bag.manifests if not m.tag for p in m.entries}
    for path in sorted(set(disk) | listed):
        name = path.rsplit("/", 1)[-1]
        if name.lower() in _SYSTEM_FILES or name.startswith("._"):
            warnings.append(f"{path} is an operating-system file, not data")


# --- checksums and Payload-Oxum --------------------------------------------------------


def file_digests(path: Path, algorithms: set[str]) -> dict[str, str]:
    """Hex digests of the file at ``path`` for each algorithm, in one read."""
    hashers = {a: hashlib.new(a, usedforsecurity=False) for a in algorithms}
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            for hasher in hashers.values():
                hasher.update(chunk)
    return {a: h.hexdigest() for a, h in hashers.items()}


def _verify(root: Path, expected: Expected) -> list[BagError]:
    def check(item: tuple[str, list[tuple[str, str, str]]]) -> list[BagError]:
        path, wanted = item
        try:
            found = file_digests(root / path, {alg for alg, _, _ in wanted})
        except OSError as err:
            return [BagError(f"cannot read {path}: {err.strerror}")]
        return [
            checksum_error(path, alg, digest, found[alg])
            for alg, digest, _ in wanted
            if found[alg] != digest
        ]

    def check_batch(batch: list[tuple[str, list[tuple[str, str, str]]]]) -> list[BagError]:
        return [err for item in batch for err in check(item)]

    # Files in batches: a thread pool's bookkeeping per task costs more than hashing a
    # small file; the hashing and reads release the GIL, so threads still overlap.
    items = sorted(expected.items())
    batches = [items[i : i + HASH_BATCH] for i in range(0, len(items), HASH_BATCH)]
    if len(batches) <= 1:
        return [err for batch in batches for err in check_batch(batch)]
    with ThreadPoolExecutor(max_workers=HASH_THREADS) as pool:
        return [err for errors in pool.map(check_batch, batches) for err in errors]


def _check_oxum(bag: BagStructure, disk: dict[str, int]) -> list[BagError]:
    values = [v for k, v in bag.info if k.lower() == "payload-oxum"]
    if not values:
        return []
    match = _OXUM.fullmatch(values[0].strip())
    if match is None:
        return [BagError(f"bag-info.txt: Payload-Oxum {values[0]!r} is not <bytes>.<files>")]
    octets, count = int(match[1]), int(match[2])
    found_octets, found_count = sum(disk.values()), len(disk)
    if (octets, count) != (found_octets, found_count):
        return [
            BagError(
                f"Payload-Oxum says {octets} bytes in {count} files, the payload holds "
                f"{found_octets} bytes in {found_count} files"
            )
        ]
    return []
