"""The names DerivaML scripts import first, with the same members and values: the
built-in vocabularies and asset tables (``MLVocab``, ``MLAsset``), the terms of
``Asset_Type`` an execution uses (``ExecAssetType``, ``ExecMetadataType``), the run
statuses (``Status``), the system columns (``DerivaSystemColumns``), the ``RID`` type
and ``FileSpec`` (a file's URL, length, MD5 and description)."""

from __future__ import annotations

import enum
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assetry.errors import ValidationError


class MLVocab(enum.StrEnum):
    """The built-in controlled vocabularies, by DerivaML's member names."""

    dataset_type = "Dataset_Type"
    workflow_type = "Workflow_Type"
    asset_type = "Asset_Type"
    asset_role = "Asset_Role"
    feature_name = "Feature_Name"


class MLAsset(enum.StrEnum):
    """The built-in asset tables of executions."""

    execution_metadata = "Execution_Metadata"
    execution_asset = "Execution_Asset"


class ExecMetadataType(enum.StrEnum):
    """``Asset_Type`` terms of an execution's metadata files."""

    execution_config = "Execution_Config"
    runtime_env = "Runtime_Env"


class ExecAssetType(enum.StrEnum):
    """``Asset_Type`` terms of an execution's input and output files."""

    input_file = "Input_File"
    output_file = "Output_File"
    model_file = "Model_File"
    metrics_file = "Metrics_File"


class Status(enum.StrEnum):
    """Run statuses: the terms of ``Execution_Status`` (``Stopped`` is a synonym of
    Completed there)."""

    created = "Created"
    running = "Running"
    completed = "Completed"
    failed = "Failed"
    aborted = "Aborted"


#: The columns every row has.
DerivaSystemColumns: list[str] = ["RID", "RCT", "RMT", "RCB", "RMB"]

#: A row's resource id (text, case-insensitive).
RID = str


@dataclass(frozen=True)
class FileSpec:
    """A file as DerivaML's ``FileSpec`` describes it: its URL (a local path becomes a
    ``file://`` URL), length, MD5 and a description."""

    url: str
    md5: str
    length: int
    description: str | None = ""

    def __post_init__(self) -> None:
        problems = []
        if not isinstance(self.url, str) or not self.url:
            problems.append(f"FileSpec url must be non-empty text, got {self.url!r}")
        if not isinstance(self.md5, str) or len(self.md5) != 32:
            problems.append(f"FileSpec md5 must be 32 hex digits, got {self.md5!r}")
        if isinstance(self.length, bool) or not isinstance(self.length, int) or self.length < 0:
            problems.append(f"FileSpec length must be a non-negative integer, got {self.length!r}")
        if problems:
            raise ValidationError(problems)

    def model_dump(self) -> dict[str, Any]:
        """The spec as the ``File`` row columns DerivaML writes."""
        return {"URL": self.url, "Description": self.description, "MD5": self.md5,
                "Length": self.length}  # fmt: skip

    @staticmethod
    def create_filespecs(
        path: str | os.PathLike[str], description: str | None = ""
    ) -> Iterator[FileSpec]:
        """A spec per file: ``path`` itself, or every file under it (sorted)."""
        root = Path(path)
        if not root.exists():
            raise ValidationError(f"no file or folder at {os.fspath(path)}")
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for file in files:
            digest = hashlib.md5(usedforsecurity=False)
            with open(file, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            yield FileSpec(file.resolve().as_uri(), digest.hexdigest(), file.stat().st_size,
                           description)  # fmt: skip

    @staticmethod
    def read_filespec(path: str | os.PathLike[str]) -> Iterator[FileSpec]:
        """Specs from a JSON-lines file (one object with url, md5, length, description
        per line)."""
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    yield FileSpec(**{k.lower(): v for k, v in record.items()})
                except (json.JSONDecodeError, TypeError) as err:
                    raise ValidationError(f"{os.fspath(path)} line {number}: {err}") from None
