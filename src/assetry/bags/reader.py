"""``DatasetBag``: the bag of one dataset version, read from a folder or an archive.

Opening a bag reads bagit.txt and bag-info.txt only (an archive is extracted first);
the model (``data/schema.json``), tables and assets are read when asked for, and nothing
is verified until ``validate()``. Table CSVs are typed by the model's column types, with
NULL and the empty string kept apart.

Every read goes through ``extract.bag_file``, the rule ``validate()`` applies to the
payload: a file that is a symbolic link out of the bag, lies in a folder that is a
symbolic link, or is not a regular file is a ``BagError`` naming it, never read. A
symbolic link to a regular file inside the bag is followed, as ``validate()`` accepts it.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assetry.bags.csvcodec import load_rows
from assetry.bags.extract import (
    BagStructure,
    bag_file,
    open_bag_path,
    parse_info,
    read_bagit_txt,
    read_tag,
)
from assetry.bags.validate import BagReport, absent_payload, load_structure, validate_bag
from assetry.errors import BagError, RIDNotFound, TableNotFound, TermNotFound
from assetry.records.bag import REFERENCES_CSV, ReferenceFile, is_reference_path
from assetry.records.definitions import BuiltinType
from assetry.records.features import (
    Feature,
    FeatureRecord,
    features_of_model,
    find_feature,
    record_from_row,
    select,
)
from assetry.records.terms import Term
from assetry.sql import rids
from assetry.sql.provenance import NOT_MEMBERSHIPS

if TYPE_CHECKING:
    import pandas as pd

DATASET = "Dataset"
NESTED = "Nested_Dataset"
REFERENCES_TABLE = REFERENCES_CSV.removeprefix("data/").removesuffix(".csv")
_TABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# pandas dtypes by column type; the rest (date, json) stay Python objects.
_DTYPES = {
    "int2": "Int64",
    "int4": "Int64",
    "int8": "Int64",
    "float4": "Float64",
    "float8": "Float64",
    "boolean": "boolean",
    "timestamptz": "datetime64[us, UTC]",
    "timestamp": "datetime64[us]",
    "text": "string",
    "markdown": "string",
    "uri": "string",
}


def local_path_column(header: list[str]) -> str:
    """The name of the local path column of an asset table with columns ``header``."""
    return "Local_Path" if "Path" in header else "Path"


def _kind(value: Any) -> str:
    try:
        return BuiltinType.parse(value).value
    except Exception:  # an unknown type name reads as text
        return "text"


class DatasetBag:
    """A BagIt bag of a dataset version: a folder, or a ``.zip``/``.tgz``/``.tar`` archive
    (extracted into ``work_dir``, by default next to the archive)."""

    def __init__(
        self, path: str | os.PathLike[str], work_dir: str | os.PathLike[str] | None = None
    ) -> None:
        self.source = Path(path)
        self.path = open_bag_path(self.source, Path(work_dir) if work_dir else None)
        declaration = BagStructure(self.path)
        read_bagit_txt(declaration)
        text = read_tag(declaration, "bag-info.txt")
        self._pairs = parse_info(declaration, text) if text is not None else []
        self.bagit_version = declaration.version
        self._model: dict[str, Any] | None = None
        self._assets: dict[str, str] | None = None

    def __repr__(self) -> str:
        return f"DatasetBag({str(self.path)!r}, dataset={self.dataset_rid!r})"

    # --- bag-info ----------------------------------------------------------------------
    @property
    def info(self) -> dict[str, str | list[str]]:
        """bag-info.txt as a dict; a label given more than once maps to a list."""
        out: dict[str, str | list[str]] = {}
        for label, value in self._pairs:
            if label not in out:
                out[label] = value
            else:
                known = out[label]
                out[label] = [*known, value] if isinstance(known, list) else [known, value]
        return out

    def _info(self, label: str) -> str | None:
        return next((v for k, v in self._pairs if k.lower() == label.lower()), None)

    @property
    def dataset_rid(self) -> str | None:
        """The RID of the bag's dataset (``Assetry-Dataset``), None for another bag."""
        return self._info("Assetry-Dataset")

    @property
    def version(self) -> str | None:
        """The dataset version the bag holds (``Assetry-Dataset-Version``)."""
        return self._info("Assetry-Dataset-Version")

    @property
    def snapshot(self) -> int | None:
        """The catalog snapshot of that version (``Assetry-Snapshot``)."""
        value = self._info("Assetry-Snapshot")
        try:
            return int(value) if value is not None else None
        except ValueError:
            raise BagError(f"bag-info.txt: Assetry-Snapshot {value!r} is not a number") from None

    @property
    def catalog(self) -> str | None:
        """The catalog the bag was exported from (``Assetry-Catalog``)."""
        return self._info("Assetry-Catalog")

    # --- integrity ---------------------------------------------------------------------
    def validate(self, fast: bool = False, allow_incomplete: bool = False) -> BagReport:
        """Validate the bag (RFC 8493); raise ``BagChecksumMismatch`` or ``BagError`` with
        every problem found, else return a report (with its warnings). ``fast`` skips
        checksums; ``allow_incomplete`` accepts files fetch.txt lists but not fetched.
        Artifact versions' external references (``data/references/...``) may always stay
        unfetched: their bytes live where the reference points."""
        return validate_bag(
            self.path,
            fast=fast,
            allow_incomplete=allow_incomplete,
            may_stay_remote=is_reference_path,
        )

    def materialize(self, workers: int = 8, references: bool = False) -> DatasetBag:
        """Fetch (in parallel, verified) every fetch.txt file not present yet; external
        references of artifact versions too with ``references=True``."""
        from assetry.bags.fetch import materialize  # requests: only when fetching

        def wanted(path: str) -> bool:
            return references or not is_reference_path(path)

        materialize(self.path, workers=workers, wanted=wanted)
        return self

    @property
    def is_complete(self) -> bool:
        """True when every payload file the manifests list is present (external
        references aside: they stay where they are)."""
        return not [p for p in absent_payload(self.path) if not is_reference_path(p)]

    def list_references(self) -> list[dict[str, Any]]:
        """The external references of the bag's artifact versions: one dict per
        reference (``Artifact_Version``, ``Index``, ``URI``, ``Size_Bytes``, ``MD5``,
        ``SHA256``, ``Description``), from the versions' rows."""
        found = []
        if "Artifact_Version" in self.list_tables():
            for row in self.get_table_as_dict("Artifact_Version"):
                for index, ref in enumerate(row.get("References") or []):
                    found.append(
                        ReferenceFile(
                            row["RID"],
                            index,
                            ref["uri"],
                            ref.get("size_bytes"),
                            ref.get("md5"),
                            ref.get("sha256"),
                            ref.get("description"),
                        ).as_row()
                    )
        return found

    # --- model and tables --------------------------------------------------------------
    @property
    def model(self) -> dict[str, Any]:
        """The catalog model as of the bag's version (``data/schema.json``)."""
        if self._model is None:
            path = bag_file(self.path, "data/schema.json")
            if path is None:
                raise BagError(
                    f"{self.path} is not an assetry dataset bag: data/schema.json is missing"
                )
            try:
                model = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as err:
                raise BagError(f"cannot read data/schema.json: {err}") from None
            if not isinstance(model, dict) or not isinstance(model.get("tables"), list):
                raise BagError("data/schema.json is not a model document (no 'tables' list)")
            self._model = model
        return self._model

    def _table_model(self, table: str) -> dict[str, Any] | None:
        if bag_file(self.path, "data/schema.json") is None:
            return None
        return next((t for t in self.model["tables"] if t.get("name") == table), None)

    def list_tables(self) -> list[str]:
        """Names of the tables the bag holds rows of (one ``data/<Table>.csv`` each).

        Every entry so named but a folder is listed, so that reading one that is not a
        regular file of the bag fails naming it (``BagError``) rather than passing for
        absent; a payload folder ``data/`` that is a symbolic link is a ``BagError``."""
        data = self.path / "data"
        if data.is_symlink():
            raise BagError(f"{self.path}: the payload directory data/ is a symbolic link")
        if not data.is_dir():
            return []
        try:
            names = os.listdir(data)
        except OSError as err:
            raise BagError(f"cannot read the payload directory data/: {err.strerror}") from None
        found = sorted(
            name[: -len(".csv")]
            for name in names
            if name.endswith(".csv")
            and _TABLE_NAME.fullmatch(name[: -len(".csv")])
            and (os.path.islink(data / name) or not os.path.isdir(data / name))
        )
        # data/references.csv lists external references unless the model has such a table.
        if REFERENCES_TABLE in found and self._table_model(REFERENCES_TABLE) is None:
            found.remove(REFERENCES_TABLE)
        return found

    def _read_table(self, table: str) -> tuple[list[str], list[dict[str, Any]], dict[str, str]]:
        valid = isinstance(table, str) and _TABLE_NAME.fullmatch(table) is not None
        path = bag_file(self.path, f"data/{table}.csv") if valid else None
        if path is None:
            raise TableNotFound(
                str(table), f"the bag has no table {table!r} (it has {self.list_tables()})"
            )
        spec = self._table_model(table)
        types = {c["name"]: _kind(c.get("type")) for c in (spec or {}).get("columns", [])}
        try:
            text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
        except (OSError, UnicodeDecodeError) as err:
            raise BagError(f"cannot read data/{table}.csv: {err}") from None
        header, rows = load_rows(text, types, name=f"data/{table}.csv")
        return header, rows, types

    def get_table_as_dict(self, table: str) -> list[dict[str, Any]]:
        """The rows of ``table``, typed by the model (NULL is None, distinct from "")."""
        return self._read_table(table)[1]

    def get_table_as_dataframe(self, table: str) -> pd.DataFrame:
        """The rows of ``table`` as a DataFrame: columns in the CSV's order, integers as
        ``Int64``, floats ``Float64``, booleans ``boolean``, text ``string`` (NULL is
        ``pd.NA``, distinct from ""), timestamps ``datetime64``; dates and json objects.
        An asset table has one more, last column, ``Path`` (``Local_Path`` if the table
        has a column ``Path``): the absolute path of each asset's file in the bag, or
        NA while it is not fetched (``materialize()``)."""
        import pandas as pd

        header, rows, types = self._read_table(table)
        columns = {}
        for column in header:
            dtype = _DTYPES.get(types.get(column, "text"), "object")
            columns[column] = pd.Series([r[column] for r in rows], dtype=dtype)
        spec = self._table_model(table)
        if spec is not None and spec.get("kind") == "asset":
            name = local_path_column(header)
            columns[name] = pd.Series([self._local_path(r["RID"]) for r in rows], dtype="string")
            header = [*header, name]
        return pd.DataFrame(columns, columns=header)

    def _local_path(self, rid: Any) -> str | None:
        try:
            return str(self.asset_path(str(rid)).resolve())
        except (RIDNotFound, BagError):
            return None

    # --- vocabularies, nesting, features ----------------------------------------------
    def list_vocabulary_terms(self, table: str) -> list[Term]:
        """The terms of vocabulary ``table`` that the bag holds (those its rows use)."""
        spec = self._table_model(table)
        if spec is None or spec.get("kind") != "vocabulary":
            raise TableNotFound(str(table), f"the bag has no vocabulary {table!r}")
        try:
            rows = self.get_table_as_dict(table)
        except TableNotFound:
            rows = []
        return sorted((Term.from_row(r) for r in rows), key=lambda t: t.name)

    def lookup_term(self, table: str, term_name: str) -> Term:
        """A term of vocabulary ``table`` in the bag by name or synonym, ignoring case
        (``TermNotFound`` otherwise)."""
        wanted = str(term_name).casefold()
        for term in self.list_vocabulary_terms(table):
            if wanted == term.name.casefold() or wanted in {s.casefold() for s in term.synonyms}:
                return term
        raise TermNotFound(table, f"{term_name!r} is not a term of vocabulary {table!r} in the bag")

    def _nesting(self) -> dict[str, list[str]]:
        nesting: dict[str, list[str]] = defaultdict(list)
        if f"Dataset_{DATASET}" in self.list_tables():
            for row in self.get_table_as_dict(f"Dataset_{DATASET}"):
                if row.get(DATASET) and row.get(NESTED):
                    nesting[rids.normalize(row[DATASET])].append(rids.normalize(row[NESTED]))
        return {k: sorted(v) for k, v in nesting.items()}

    def list_dataset_children(self, recurse: bool = False, dataset: str | None = None) -> list[str]:
        """RIDs of the datasets nested in the bag's dataset (or in ``dataset``):
        directly, or with ``recurse`` at any depth."""
        start = dataset or self.dataset_rid
        if start is None:
            raise BagError(f"{self.path} is not a dataset bag: bag-info.txt has no Assetry-Dataset")
        nesting = self._nesting()
        found: list[str] = []
        frontier = list(nesting.get(rids.normalize(start), []))
        while frontier:
            child = frontier.pop(0)
            if child in found:
                continue
            found.append(child)
            if recurse:
                frontier += nesting.get(child, [])
        return sorted(found)

    def dataset_types_of(self, dataset: str | None = None) -> list[str]:
        """The types of the bag's dataset (or of ``dataset``, nested in it)."""
        wanted = rids.normalize(dataset or self.dataset_rid or "")
        if "Dataset_Dataset_Type" not in self.list_tables():
            return []
        return sorted(
            r["Dataset_Type"]
            for r in self.get_table_as_dict("Dataset_Dataset_Type")
            if r.get(DATASET) and rids.normalize(r[DATASET]) == wanted
        )

    @property
    def dataset_types(self) -> list[str]:
        """The types of the bag's dataset."""
        return self.dataset_types_of()

    def find_features(self, table: str | None = None) -> list[Feature]:
        """The features the bag's model has (of ``table``, when given)."""
        found = features_of_model(self.model)
        name = getattr(table, "name", table)
        return [f for f in found if name is None or f.target_table.name == name]

    def lookup_feature(self, table: str, feature_name: str) -> Feature:
        """A feature of the bag's model (``NotFoundError`` listing the table's)."""
        return find_feature(self.find_features(), str(getattr(table, "name", table)), feature_name)

    def feature_record_class(self, table: str, feature_name: str) -> type[FeatureRecord]:
        return self.lookup_feature(table, feature_name).feature_record_class()

    def list_feature_values(
        self, table: str, feature_name: str, selector: Any = None
    ) -> list[FeatureRecord]:
        """The values of a feature in the bag (those of rows in its scope, as of its
        version), as records; ``selector`` keeps one per target."""
        feature = self.lookup_feature(table, feature_name)
        cls = feature.feature_record_class()
        try:
            rows = self.get_table_as_dict(feature.feature_table.name)
        except TableNotFound:
            rows = []
        records = [record_from_row(cls, row) for row in rows]
        return select(records, feature.target_table.name, selector)

    def feature_values(
        self, table: str, feature_name: str, selector: Any = None
    ) -> list[FeatureRecord]:
        """DerivaML's newer name of ``list_feature_values``."""
        return self.list_feature_values(table, feature_name, selector)

    def restructure_assets(
        self,
        output_dir: str | os.PathLike[str],
        asset_table: str | None = None,
        group_by: list[str] | None = None,
        use_symlinks: bool = True,
        type_selector: Any = None,
        type_to_dir_map: dict[str, str] | None = None,
        enforce_vocabulary: bool = True,
        value_selector: Any = None,
        file_transformer: Any = None,
    ) -> dict[Path, Path]:
        """Lay the bag's asset files out one folder per label, as DerivaML's
        ``restructure_assets`` does (``bags.restructure`` says how); returns source ->
        written path."""
        from assetry.bags.restructure import restructure

        return restructure(
            self,
            Path(output_dir),
            asset_table,
            list(group_by or []),
            use_symlinks,
            type_selector,
            type_to_dir_map,
            enforce_vocabulary,
            value_selector,
            file_transformer,
        )

    # --- members and assets ------------------------------------------------------------
    def _membership_tables(self) -> dict[str, str]:
        """``Dataset_<T>`` membership table -> element table T."""
        out = {}
        for name in self.list_tables():
            element = name.removeprefix("Dataset_")
            if element == name or name in NOT_MEMBERSHIPS:
                continue
            spec = self._table_model(name)
            targets = {fk.get("table") for fk in (spec or {}).get("foreign_keys", [])}
            if spec is None or (
                spec.get("kind") == "association" and targets == {DATASET, element}
            ):
                out[name] = element
        return out

    def list_dataset_members(self, recurse: bool = False) -> dict[str, list[dict[str, Any]]]:
        """The bag's dataset's members by table (rows sorted by RID), as the catalog's
        ``list_dataset_members`` gives them; ``recurse`` adds nested datasets' members."""
        if self.dataset_rid is None:
            raise BagError(f"{self.path} is not a dataset bag: bag-info.txt has no Assetry-Dataset")
        nesting: dict[str, set[str]] = defaultdict(set)
        if f"Dataset_{DATASET}" in self.list_tables():
            for row in self.get_table_as_dict(f"Dataset_{DATASET}"):
                if row.get(DATASET) and row.get(NESTED):
                    nesting[rids.normalize(row[DATASET])].add(rids.normalize(row[NESTED]))
        datasets, frontier = set(), {rids.normalize(self.dataset_rid)}
        while frontier:  # the closure of nested datasets (cycles stop here)
            datasets |= frontier
            frontier = {c for d in frontier for c in nesting[d]} - datasets if recurse else set()
        members: dict[str, set[str]] = defaultdict(set)
        for dataset in datasets:
            members[DATASET] |= nesting[dataset]
        for link, element in self._membership_tables().items():
            for row in self.get_table_as_dict(link):
                if (
                    row.get(DATASET)
                    and rids.normalize(row[DATASET]) in datasets
                    and row.get(element)
                ):
                    members[element].add(rids.normalize(row[element]))
        out: dict[str, list[dict[str, Any]]] = {}
        for table in sorted(t for t, found in members.items() if found):
            try:
                rows = {rids.normalize(r["RID"]): r for r in self.get_table_as_dict(table)}
            except TableNotFound:
                rows = {}
            absent = sorted(members[table] - set(rows))
            if absent:
                raise BagError(f"the bag lists members {absent[:5]} of {table} without their rows")
            out[table] = [rows[rid] for rid in sorted(members[table])]
        return out

    def asset_path(self, rid: str) -> Path:
        """The file of asset ``rid``: ``data/assets/<Table>/<RID>/<Filename>``.

        ``RIDNotFound`` if the bag has no asset with that RID; ``BagError`` if it has one
        that is not fetched yet (``materialize()`` fetches it).
        """
        if self._assets is None:
            index: dict[str, str] = {}
            for manifest in load_structure(self.path).manifests:
                for listed in manifest.entries if not manifest.tag else ():
                    parts = listed.split("/")
                    if len(parts) == 5 and parts[:2] == ["data", "assets"]:
                        index.setdefault(rids.normalize(parts[3]), listed)
            self._assets = index
        path = self._assets.get(rids.normalize(rid)) if isinstance(rid, str) else None
        if path is None:
            raise RIDNotFound(str(rid), f"the bag has no asset with RID {rid!r}")
        full = bag_file(self.path, path)
        if full is None:
            raise BagError(f"asset {rid} ({path}) is not in the bag yet: materialize() fetches it")
        return full
