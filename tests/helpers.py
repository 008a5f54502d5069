"""Helpers shared by tests: the models most tests build, and content built row by row.

Asset rows must name bytes stored in the catalog's own store, and system tables are
written only by their own operations (``sql/policy.py``). Tests that shape a graph row by
row store real bytes with ``stored_file`` and write system rows with
``insert_as_operations_do`` (the row layer below the generic-operation checks, as the
catalog's own operations do).
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from assetry import BuiltinType, Catalog, ColumnDef, TableDef
from assetry.api.pathbuilder import PathBuilder
from assetry.records.lineage import LineageGraph
from assetry.sql import internal, rows
from assetry.sql.backend import SqlBackend

# --- checking what a call changed --------------------------------------------------------


def catalog_state(cat: Catalog) -> dict[str, Any]:
    """Everything a failed call must leave unchanged: snapshot, model and every row."""
    return {
        "snapshot": cat.snapshot(),
        "model": cat.model,
        "rows": {t: list(cat.get_table_as_dict(t)) for t in cat.list_tables()},
    }


def refused(what: str, call: Callable[[], object], error: type[Exception]) -> Exception:
    """The ``error`` that ``call`` raises; fails the test, naming ``what``, otherwise."""
    try:
        call()
    except error as err:
        return err
    except Exception as err:
        pytest.fail(f"{what}: raised {type(err).__name__} instead of {error.__name__}: {err}")
    pytest.fail(f"{what}: accepted; expected {error.__name__}")


def rid_of(cat: Catalog, table: str) -> str:
    """The RID of the first row of ``table``."""
    return str(next(iter(cat.get_table_as_dict(table, limit=1)))["RID"])


# --- the shared models ---------------------------------------------------------------------

SUBJECT_COLUMNS = (
    ColumnDef("Name", BuiltinType.text, nullok=False),
    ColumnDef("Age", BuiltinType.int4),
)
IMAGE_COLUMNS = (ColumnDef("Width", BuiltinType.int4),)


def subject_image_model(
    cat: Catalog,
    *,
    subject_columns: Sequence[ColumnDef] = SUBJECT_COLUMNS,
    image_columns: Sequence[ColumnDef] = IMAGE_COLUMNS,
    terms: Mapping[str, Sequence[str]] | None = None,
    element_types: Sequence[str] = (),
) -> Catalog:
    """The model most tests share, returning ``cat``: vocabulary ``Species`` (term "Mus
    musculus", synonym "mouse"; or ``terms``, each name with its synonyms), table
    ``Subject`` (``subject_columns``: Name, not null, and Age) referencing Species, and
    asset table ``Image`` (``image_columns``: Width) referencing Subject; each of
    ``element_types`` is made a dataset element type."""
    cat.create_vocabulary("Species", comment="Species of subjects")
    for name, synonyms in (terms or {"Mus musculus": ["mouse"]}).items():
        cat.add_term("Species", name, synonyms=list(synonyms))
    cat.create_table(
        TableDef(
            "Subject",
            column_defs=list(subject_columns),
            referenced_tables=["Species"],
            comment="A subject",
        )
    )
    cat.create_asset(
        "Image",
        column_defs=list(image_columns),
        referenced_tables=["Subject"],
        comment="An image",
    )
    for table in element_types:
        cat.add_dataset_element_type(table)
    return cat


def species_model(cat: Catalog) -> None:
    """Vocabulary Species (Mouse ~ mus, Rat ~ rattus) and table Subject referencing it."""
    cat.create_vocabulary("Species", "Kinds of animals")
    cat.add_term("Species", "Mouse", "A small rodent", ["mus"])
    cat.add_term("Species", "Rat", "A larger rodent", ["rattus"])
    cat.create_table(
        TableDef(
            "Subject",
            column_defs=[ColumnDef("Name", BuiltinType.text, nullok=False)],
            referenced_tables=["Species"],
        )
    )


TYPES = [t.value for t in BuiltinType if t.name == t.value]

GOOD_VALUES: dict[str, Any] = {
    "text": "hello",
    "markdown": "*hi*",
    "int2": 7,
    "int4": 70000,
    "int8": 2**40,
    "float4": 1.5,
    "float8": 2.25,
    "boolean": True,
    "date": "2024-02-29",
    "timestamp": "2024-02-29T12:00:00",
    "timestamptz": "2024-02-29T12:00:00+00:00",
    "json": {"a": [1, 2, None]},
    "uri": "https://example.org/x",
}

STORED_GOOD_VALUES: dict[str, Any] = {
    **GOOD_VALUES,
    "date": dt.date(2024, 2, 29),
    "timestamp": dt.datetime(2024, 2, 29, 12, 0),
    "timestamptz": dt.datetime(2024, 2, 29, 12, 0, tzinfo=dt.UTC),
}


def stock_every_type(cat: Catalog) -> Catalog:
    """A vocabulary (Species: Mouse ~ mus), Subject referencing it, Sample referencing
    Subject, and Typed with a column of every type (``C_<type>``) and a not-null
    ``Required``; one row in each. Returns ``cat``."""
    cat.create_vocabulary("Species", "Kinds of animals")
    cat.add_term("Species", "Mouse", "A small rodent", ["mus"])
    cat.create_table(TableDef("Subject", list(SUBJECT_COLUMNS), referenced_tables=["Species"]))
    cat.create_table(TableDef("Sample", [ColumnDef("Label")], referenced_tables=["Subject"]))
    cat.create_table(
        TableDef(
            "Typed",
            [ColumnDef(f"C_{t}", t) for t in TYPES] + [ColumnDef("Required", nullok=False)],
        )
    )
    [subject] = cat.insert("Subject", [{"Name": "S1", "Age": 3, "Species": "Mouse"}])
    cat.insert("Sample", [{"Label": "L1", "Subject": subject}])
    cat.insert("Typed", [{**{f"C_{t}": v for t, v in GOOD_VALUES.items()}, "Required": "r"}])
    return cat


# --- content row by row --------------------------------------------------------------------


def stored_file(cat: Catalog, content: bytes, filename: str | None = None) -> dict[str, Any]:
    """Store ``content`` in ``cat``'s store; the file columns of an asset row naming it."""
    digests = cat._context.store().put_stream(io.BytesIO(content))
    return {
        "URL": f"/objects/{digests.sha256}",
        "Filename": filename,
        "Length": digests.length,
        "MD5": digests.md5,
        "SHA256": digests.sha256,
    }


def insert_as_operations_do(
    cat: Catalog, table: str, values: Sequence[Mapping[str, Any]], *, keep_system: bool = False
) -> list[str]:
    """Insert rows through the row layer (checks of values and references, history,
    provenance edges), as the catalog's own operations do, past the rule that keeps the
    generic ``insert`` out of system tables; ``keep_system`` as an import does (the rows
    carry their RIDs). Database catalogs only."""
    backend = cat._backend
    assert isinstance(backend, SqlBackend), "white-box helper: SQLite or PostgreSQL only"
    with backend.session(write=True) as session:
        return rows.insert(session, table, values, keep_system=keep_system)


# --- a provenance graph, edge by edge ------------------------------------------------------

Edge = tuple[str, str, str, str, str, str | None]


def add_edges(cat: Catalog, edges: Sequence[Edge]) -> None:
    """Insert ``(from_rid, from_table, to_rid, to_table, relation, detail)`` edges straight
    into the edge table (the row layer writes them in normal use). Database catalogs."""
    backend = cat._backend
    assert isinstance(backend, SqlBackend), "white-box helper: SQLite or PostgreSQL only"
    with backend.session(write=True) as s:
        snapshot = s.snapshot()
        s.conn.execute(
            internal.edges.insert(),
            [
                {
                    "from_rid": f,
                    "from_table": ft,
                    "to_rid": t,
                    "to_table": tt,
                    "relation": rel,
                    "detail": detail,
                    "link_rid": t,
                    "snapshot": snapshot,
                }
                for f, ft, t, tt, rel, detail in edges
            ],
        )


def images(cat: Catalog, *names: str) -> list[str]:
    """New rows of asset table Image (made if missing), one per file name."""
    if "Image" not in cat.list_tables():
        cat.create_asset("Image", comment="test images")
    return cat.insert("Image", [stored_file(cat, n.encode(), n) for n in names])


def executions(cat: Catalog, workflow: str, *descriptions: str | None) -> list[str]:
    """New executions of ``workflow``, each with its ``executed`` edge (written here too, so
    the tests do not depend on whether the row layer writes it: duplicates collapse)."""
    rids = insert_as_operations_do(
        cat,
        "Execution",
        [
            {
                "Workflow": workflow,
                "Description": d,
                "Status": "Created",
                "Upload_Status": "Not_Started",
            }
            for d in descriptions
        ],
    )
    add_edges(cat, [(e, "Execution", workflow, "Workflow", "executed", None) for e in rids])
    return rids


def workflow(cat: Catalog, name: str = "train-unet") -> str:
    [rid] = insert_as_operations_do(cat, "Workflow", [{"Name": name, "Workflow_Type": "Training"}])
    return rid


def dataset(cat: Catalog, description: str) -> str:
    [rid] = insert_as_operations_do(cat, "Dataset", [{"Description": description}])
    return rid


@dataclass
class World:
    """WF; A0 member_of D; E1 used D@0.1.0 and generated A1; E2 used A1 and generated
    A2, A3; A2 member_of D2; every execution executed WF."""

    wf: str
    a0: str
    a1: str
    a2: str
    a3: str
    d: str
    d2: str
    e1: str
    e2: str


def build_world(cat: Catalog) -> World:
    """The graph of ``World``, written into the database of ``cat``."""
    a0, a1, a2, a3 = images(cat, "raw.png", "clean.png", "mask.png", "log.png")
    wf = workflow(cat)
    e1, e2 = executions(cat, wf, "clean run", None)
    d, d2 = dataset(cat, "training set"), dataset(cat, "masks")
    add_edges(
        cat,
        [
            (a0, "Image", d, "Dataset", "member_of", None),
            (e1, "Execution", d, "Dataset", "used", "0.1.0"),
            (e1, "Execution", wf, "Workflow", "executed", None),
            (e1, "Execution", a1, "Image", "generated", None),
            (e2, "Execution", a1, "Image", "used", None),
            (e2, "Execution", wf, "Workflow", "executed", None),
            (e2, "Execution", a2, "Image", "generated", None),
            (e2, "Execution", a3, "Image", "generated", None),
            (a2, "Image", d2, "Dataset", "member_of", None),
        ],
    )
    return World(wf, a0, a1, a2, a3, d, d2, e1, e2)


def node_rids(g: LineageGraph) -> set[str]:
    """The RIDs of the nodes of ``g``."""
    return {n["rid"] for n in g.nodes}


@contextmanager
def counting_statements(cat: Catalog) -> Iterator[list[str]]:
    """The SQL statements ``cat``'s engine runs inside the block."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    backend = cat._backend
    assert isinstance(backend, SqlBackend), "white-box helper: SQLite or PostgreSQL only"
    sa.event.listen(backend.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(backend.engine, "before_cursor_execute", record)


# --- a dataset with a version, for bags ----------------------------------------------------


def dataset_study(cat: Catalog) -> tuple[str, dict[str, str]]:
    """A dataset of subjects and images, with version 0.2.0 minted; returns the dataset
    and the RIDs of s1, s2, img0, img1 (img0 of s1, 64 wide; img1 and img2 of no one)."""
    subject_image_model(
        cat,
        subject_columns=[ColumnDef("Name", "text"), ColumnDef("Note", "text")],
        element_types=["Image", "Subject"],
    )
    [s1, s2] = cat.insert(
        "Subject",
        [{"Name": "S1", "Species": "mouse", "Note": ""}, {"Name": "S2", "Note": None}],
    )
    with tempfile.TemporaryDirectory() as folder:
        files = []
        for i in range(3):
            path = Path(folder) / f"img{i}.png"
            path.write_bytes(f"pixels {i}".encode() * 100)
            files.append(path)
        uploaded = cat.upload_assets("Image", files)
    cat.update("Image", [{"RID": uploaded[0]["RID"], "Subject": s1, "Width": 64}])
    ds = cat.create_dataset("Training", description="study")
    version = cat.add_dataset_members(ds, [s1, *(i["RID"] for i in uploaded)])
    assert version == "0.2.0"
    return ds, {"s1": s1, "s2": s2, "img0": uploaded[0]["RID"], "img1": uploaded[1]["RID"]}


def tree(path: Path) -> dict[str, bytes]:
    """Every file under ``path`` (relative POSIX path) and its bytes."""
    return {
        p.relative_to(path).as_posix(): p.read_bytes()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


# --- rows for path queries -----------------------------------------------------------------


@dataclass
class PathStock:
    cat: Catalog
    pb: PathBuilder
    subjects: dict[str, str]  # subject name -> RID
    images: list[str]
    execution: str


def stock_for_paths(cat: Catalog) -> tuple[dict[str, str], list[str], str]:
    """Species (two terms), four subjects A-D (ages 1, 3, 5 and none; D without a
    species), three images of A (widths 10, 20, 30) and one execution: returns the
    subjects' RIDs by name, the images' and the execution's (see ``PathStock``)."""
    subject_image_model(
        cat,
        subject_columns=[
            *SUBJECT_COLUMNS,
            ColumnDef("Weight", BuiltinType.float8),
            ColumnDef("Born", BuiltinType.date),
        ],
        terms={"Mus musculus": ["mouse"], "Rattus norvegicus": ["rat"]},
    )
    people = [
        {"Name": "A", "Age": 1, "Weight": 1.5, "Born": "2024-01-01", "Species": "mouse"},
        {"Name": "B", "Age": 3, "Weight": 2.5, "Born": "2024-02-01", "Species": "Mus musculus"},
        {"Name": "C", "Age": 5, "Weight": 3.5, "Born": "2024-03-01", "Species": "rat"},
        {"Name": "D", "Age": None, "Species": None},
    ]
    rids = cat.insert("Subject", people)
    subjects = {p["Name"]: rid for p, rid in zip(people, rids, strict=True)}
    a = subjects["A"]
    images = cat.insert(
        "Image", [{**stored_file(cat, b"x" * w), "Subject": a, "Width": w} for w in (10, 20, 30)]
    )
    execution = cat._backend.create_execution({"Description": "x"}, {})
    return subjects, images, execution


def path_stock(cat: Catalog, stocked: tuple[dict[str, str], list[str], str]) -> PathStock:
    """``cat``, holding what ``stock_for_paths`` made, with its path builder."""
    subjects, images, execution = stocked
    return PathStock(cat, cat.pathBuilder(), subjects, images, execution)
