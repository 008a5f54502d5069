"""Materialize hashing each big file on one thread per algorithm: the same answers as
hashing in line. Here every file counts as big and comes in chunks of a few bytes, so the
hashing threads see many chunks, which must be hashed in order."""

from __future__ import annotations

from pathlib import Path

import pytest

from assetry import BagChecksumMismatch
from assetry.bags import fetch
from assetry.bags.fetch import materialize
from assetry.bags.reader import DatasetBag
from tests.bags.test_materialize import Files, _leftovers, _served, server
from tests.bags.test_reader import image_bytes, make_bag

__all__ = ["server"]  # the fixture, imported for the tests below


@pytest.fixture(autouse=True)
def parallel_hashing_in_small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch, "PARALLEL_HASH_BYTES", 1)
    monkeypatch.setattr(fetch, "CHUNK_SIZE", 7)


def test_files_arrive_verified(tmp_path: Path, server: Files) -> None:
    root = make_bag(tmp_path / "bag", images=6, holes=range(1, 7), url_for=_served(server))
    assert len(materialize(root, workers=3)) == 6
    bag = DatasetBag(root)
    assert bag.is_complete and bag.validate().complete
    assert bag.asset_path("T-I4").read_bytes() == image_bytes(4)
    assert _leftovers(root) == []


def test_wrong_bytes_are_refused(tmp_path: Path, server: Files) -> None:
    root = make_bag(tmp_path / "bag", holes=[2], url_for=_served(server, "/wrong"))
    with pytest.raises(BagChecksumMismatch) as caught:
        materialize(root)
    assert caught.value.algorithm in ("md5", "sha256")
    assert not (root / caught.value.path).exists() and _leftovers(root) == []


def test_a_long_file_is_refused_while_hashing(tmp_path: Path, server: Files) -> None:
    root = make_bag(tmp_path / "bag", holes=[2], url_for=_served(server))
    server.files["/files/data/assets/Image/T-I2/img2.png"] += b"a longer tail than one chunk"
    with pytest.raises(BagChecksumMismatch, match="length") as caught:
        materialize(root)
    assert caught.value.algorithm == "length" and not (root / caught.value.path).exists()
    assert _leftovers(root) == []
