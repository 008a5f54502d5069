"""An upload killed (SIGKILL) at each named fault point finishes on restore, with every
staged file recorded exactly once and every recorded object intact, also when the
execution keeps its working folder. (The Backend conformance suite,
``tests/conformance/backend/transactions.py``, kills the upload at each point on every
backend, the folder cleaned afterwards.)"""

from __future__ import annotations

import pytest

from assetry import Catalog
from tests.conformance.backend.transactions import killed_upload_finishes_on_restore


@pytest.mark.parametrize(
    "point", ["upload.before_object:7", "upload.after_object:7", "upload.after_rows:2"]
)
def test_killed_upload_finishes_on_restore_keeping_the_folder(catalog: Catalog, point: str) -> None:
    killed_upload_finishes_on_restore(catalog, point, "keep")
