"""The Library of Congress BagIt conformance suite, every case of it.

``valid`` and ``warning`` bags must validate (``warning`` ones with at least one warning);
``invalid`` and ``linux-only`` bags must be refused with a ``BagError`` that says why
(``BagChecksumMismatch`` for checksum failures). The suite's bags are read-only and are
never written: a test that writes copies its bag to tmp_path first.
"""

from __future__ import annotations

import logging
import re
import shutil
import stat
from pathlib import Path

import bagit
import pytest

from assetry import BagChecksumMismatch, BagError
from assetry.bags.reader import DatasetBag
from tests.conftest import BAGIT_CONFORMANCE, service_missing

SUITE = BAGIT_CONFORMANCE
KINDS = ("valid", "warning", "invalid", "linux-only")
CASES = sorted(p for kind in KINDS for p in SUITE.glob(f"*/{kind}/*") if p.is_dir())

# Why each refused bag is refused: a pattern its message must match.
REASONS = {
    "baginfo-missing-encoding": r"bagit.txt lacks Tag-File-Character-Encoding",
    "bom-in-bagit.txt": r"bagit.txt must not start with a byte-order mark",
    "corrupt-data-file": r"data/bare-filename: md5 is 9858c54c.*expected 751e3217",
    "corrupt-tag-file": r"bag-info.txt: md5 is a9ca1dd1.*expected deadbeef",
    "extra-file-in-bag": r"data/bar is in the payload but not listed in manifest-md5.txt",
    "invalid-version-number": r"BagIt-Version must be MAJOR.MINOR numbers, not '.97'",
    "missing-baginfo": r"bag-info.txt is listed in tagmanifest-md5.txt but missing",
    "missing-bagit.txt": r"not a bag: bagit.txt is missing",
    "out-of-scope-file-paths-using-dot-notation": (
        r"manifest-md5.txt lists '../../../README.md', which climbs out of the bag"
    ),
    "out-of-scope-file-paths-using-dot-notation-for-fetch": (
        r"fetch.txt lists '../../../README.md', which climbs out of the bag"
    ),
    "same-filename-listed-twice-with-different-hashes": (
        r"data/README is listed twice in manifest-sha256.txt with different checksums"
    ),
    "out-of-scope-file-paths-using-absolute-path": r"'/tmp/foo', which is an absolute path",
    "out-of-scope-file-paths-using-absolute-path-for-fetch": (
        r"fetch.txt lists '/tmp/test.txt', which is an absolute path"
    ),
    "out-of-scope-file-paths-using-shortcut": r"'~/foo', which starts with '~'",
    "out-of-scope-file-paths-using-shortcut-for-fetch": r"fetch.txt lists '~/test.txt'.*'~'",
    "out-of-scope-file-paths-using-shortcut-username": r"'~root/foo', which starts with '~'",
    "out-of-scope-file-paths-using-shortcut-username-for-fetch": r"fetch.txt lists '~root/foo'",
    "bagit-with-invalid-whitespace": r"bagit.txt: whitespace before the colon",
    "notAllManifestsListAllFiles": (
        r"data/missingFromManifest.txt is in the payload but not listed in manifest-sha512.txt"
    ),
    "same-filename-listed-twice-with-the-same-hash": (
        r"data/README is listed more than once in manifest-sha256.txt"
    ),
}
CHECKSUM_CASES = {"corrupt-data-file", "corrupt-tag-file"}
# What the warning each warning bag gets must mention.
WARNINGS = {
    "duplicate-file-with-different-case": r"'data/hello.txt' and 'data/HELLO.txt'.*case",
    "made-with-md5sum-tools": r"binary flag '\*'",
    "relative-path": r"'./data/hello.txt' with a leading './'",
    "same-filename-listed-twice-with-different-normalization": r"Unicode normalization",
    "same-filename-listed-twice-with-the-same-hash": r"data/README is listed more than once",
    "special-system-files": r"data/.DS_Store is an operating-system file",
}
# Where bagit-python 1.9 judges differently, and why we follow the suite instead.
BAGIT_PYTHON_DIFFERS = {
    "bagit-with-invalid-whitespace",  # it strips the space before bagit.txt's colon
    "duplicate-file-with-different-case",  # it wants HELLO.txt on a case-sensitive disk
    "same-filename-listed-twice-with-different-normalization",  # it compares NFC names
}


def _case_id(path: Path) -> str:
    return "/".join(path.parts[-3:])


def _broken_copy(case: Path) -> str | None:
    """Why this copy of the suite cannot pass a case as the suite means it, if so."""
    if case.name == "special-system-files" and not (case / "data" / ".DS_Store").exists():
        return (
            "this copy of the suite lacks data/.DS_Store (an empty file that manifest-sha512.txt "
            "lists and Payload-Oxum 0.2 counts; it was lost when the suite was copied), so the "
            "bag really is incomplete and must be refused; test_special_system_files_warn "
            "checks the case with the file restored"
        )
    return None


def _params() -> list[object]:
    params: list[object] = []
    for case in CASES:
        reason = _broken_copy(case)
        marks = [pytest.mark.xfail(strict=True, raises=BagError, reason=reason)] if reason else []
        params.append(pytest.param(case, id=_case_id(case), marks=marks))
    return params


def _writable_copy(case: Path, target: Path) -> Path:
    shutil.copytree(case, target, symlinks=True)
    for path in [target, *target.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return target


def test_the_suite_is_there() -> None:
    if not CASES:
        service_missing(f"the BagIt conformance suite is not at {SUITE}")
    assert {p.parent.name for p in CASES} == set(KINDS)
    known = set(REASONS) | set(WARNINGS)
    assert {p.name for p in CASES if p.parent.name not in ("valid",)} <= known


@pytest.mark.parametrize("case", _params())
def test_conformance(case: Path) -> None:
    kind = case.parent.name
    if kind in ("valid", "warning"):
        report = DatasetBag(case).validate()
        assert report.complete
        if kind == "warning":
            assert report.warnings, "a warning bag must produce a warning"
            assert any(re.search(WARNINGS[case.name], w) for w in report.warnings), report.warnings
        return
    with pytest.raises(BagError) as caught:
        DatasetBag(case).validate()
    assert isinstance(caught.value, BagChecksumMismatch) == (case.name in CHECKSUM_CASES)
    assert caught.value.args and str(caught.value)
    pattern = REASONS[case.name]
    assert re.search(pattern, str(caught.value)), str(caught.value)


@pytest.mark.parametrize("case", [c for c in CASES if c.name.endswith("-for-fetch")], ids=_case_id)
def test_unsafe_fetch_paths_are_refused_before_fetching(case: Path) -> None:
    with pytest.raises(BagError, match="fetch.txt lists"):
        DatasetBag(case).materialize()


def test_special_system_files_warn(tmp_path: Path) -> None:
    case = SUITE / "v0.97/warning/special-system-files"
    if not case.is_dir():
        service_missing(f"the BagIt conformance suite is not at {SUITE}")
    bag = _writable_copy(case, tmp_path / "bag")
    (bag / "data" / ".DS_Store").write_bytes(b"")  # the file the suite's bag holds
    warnings = DatasetBag(bag).validate().warnings
    assert any("data/.DS_Store is an operating-system file" in w for w in warnings)
    assert any("data/Thumbs.db is an operating-system file" in w for w in warnings)


def test_holey_bag_materializes_from_file_urls(tmp_path: Path) -> None:
    case = SUITE / "v0.97/valid/holey-bag"
    if not case.is_dir():
        service_missing(f"the BagIt conformance suite is not at {SUITE}")
    assert DatasetBag(case).materialize().is_complete  # nothing to fetch, nothing written
    bag = _writable_copy(case, tmp_path / "bag")
    fetch = (bag / "fetch.txt").read_text(encoding="utf-8")
    prefix = "http://localhost:8989/bags/v0_96/holey-bag/"
    (bag / "fetch.txt").write_text(fetch.replace(prefix, (case.as_uri() + "/")))
    for name in ("data/test2.txt", "data/dir2/dir3/test5.txt"):
        (bag / name).unlink()
    opened = DatasetBag(bag)
    assert not opened.is_complete
    opened.materialize()
    assert opened.is_complete and opened.validate().complete


def test_bagit_python_agrees_except_where_documented() -> None:
    """A second opinion: bagit-python's verdicts match ours but for known, argued cases."""
    if not CASES:
        service_missing(f"the BagIt conformance suite is not at {SUITE}")
    logging.getLogger("bagit").setLevel(logging.CRITICAL)
    differs = set()
    for case in CASES:
        if _broken_copy(case):
            continue
        try:
            bagit.Bag(str(case)).validate()
            theirs = True
        except bagit.BagError:
            theirs = False
        if theirs != (case.parent.name in ("valid", "warning")):
            differs.add(case.name)
    assert differs == BAGIT_PYTHON_DIFFERS


def test_the_conformance_suite_is_present() -> None:
    """Without the suite every case above would vanish from the run: fail loudly instead."""
    cases = [p.parent for p in SUITE.glob("*/*/*/bagit.txt")]
    assert SUITE.is_dir(), f"BagIt conformance suite not found at {SUITE}"
    assert len(cases) >= 35, cases
