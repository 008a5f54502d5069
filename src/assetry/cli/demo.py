"""``assetry demo``: build a small catalog step by step and explain what happens."""

from __future__ import annotations

import argparse
import hashlib
import shlex
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from assetry.catalog.definitions import BuiltinType, ColumnDef, TableDef
from assetry.catalog.facade import Catalog
from assetry.cli.commands import history_lines
from assetry.cli.output import Output
from assetry.errors import ConflictError, ValidationError

DEFAULT_DIR = "assetry-demo"

SPECIES = [
    ("Mus musculus", "The house mouse.", ["mouse", "house mouse"]),
    ("Danio rerio", "The zebrafish.", ["zebrafish"]),
    ("Homo sapiens", "Humans.", ["human"]),
]

IMAGE_COLUMNS = ["RID", "Filename", "Length", "MD5", "Width", "Height", "Subject"]


def _pgm(width: int, height: int, pattern: Callable[[int, int], int]) -> bytes:
    """A binary greyscale PGM image: tiny, real, and viewable by common image tools."""
    pixels = bytes(pattern(x, y) % 256 for y in range(height) for x in range(width))
    return f"P5\n{width} {height}\n255\n".encode("ascii") + pixels


def _file_columns(path: Path) -> dict[str, Any]:
    """The asset columns of a local file: where it is, its size and checksums."""
    data = path.read_bytes()
    return {
        "URL": path.resolve().as_uri(),
        "Filename": path.name,
        "Length": len(data),
        "MD5": hashlib.md5(data).hexdigest(),
        "SHA256": hashlib.sha256(data).hexdigest(),
    }


def _write_images(folder: Path) -> list[tuple[str, Path, int, int]]:
    """Write the demo's image files; return (subject name, path, width, height) for each."""
    folder.mkdir(parents=True, exist_ok=True)
    images = [
        ("S1", "s1-gradient.pgm", 32, 24, lambda x, y: 8 * x),
        ("S1", "s1-checks.pgm", 32, 32, lambda x, y: 255 * ((x // 4 + y // 4) % 2)),
        ("S2", "s2-rings.pgm", 24, 24, lambda x, y: 20 * ((x - 12) ** 2 + (y - 12) ** 2)),
    ]
    written = []
    for subject, name, width, height, pattern in images:
        path = folder / name
        path.write_bytes(_pgm(width, height, pattern))
        written.append((subject, path, width, height))
    return written


def _check_folder(root: Path) -> None:
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise ConflictError(
            f"{root} already exists and is not empty; pass --dir with a new or empty folder"
        )


def _pick(rows: Iterable[Mapping[str, Any]], columns: list[str]) -> list[dict[str, Any]]:
    return [{c: row.get(c) for c in columns} for row in rows]


def cmd_demo(args: argparse.Namespace, out: Output) -> None:
    """Create a demo catalog in a new folder, fill it, and tour it."""
    root = Path(args.dir)
    _check_folder(root)
    root.mkdir(parents=True, exist_ok=True)
    with Catalog.create(root / "catalog") as cat:
        summary = _tour(cat, root, out)
    if out.json_mode:
        out.json(summary)


def _tour(cat: Catalog, root: Path, out: Output) -> dict[str, Any]:
    text = not out.json_mode

    def say(line: str = "") -> None:
        if text:
            out.line(line)

    def step(number: int, title: str) -> None:
        say()
        say(f"{number}. {title}")
        say("-" * (len(title) + len(str(number)) + 2))

    say("assetry demo: a tiny imaging study, built one step at a time.")
    step(1, "A new catalog")
    say(f"Created an embedded catalog in {root / 'catalog'}:")
    say("a SQLite database plus a folder for file objects. Nothing else to set up.")

    step(2, "A controlled vocabulary")
    cat.create_vocabulary("Species", comment="The species of a subject.")
    for name, description, synonyms in SPECIES:
        cat.add_term("Species", name, description=description, synonyms=synonyms)
    say("Vocabulary 'Species' holds controlled terms. Each has one canonical name and may")
    say("have synonyms, so people can type what they are used to:")
    terms = cat.list_vocabulary_terms("Species")
    for term in terms:
        say(f"  {term.name:<14} synonyms: {', '.join(term.synonyms)}")

    step(3, "Tables")
    cat.create_table(
        TableDef(
            "Subject",
            column_defs=[
                ColumnDef("Name", BuiltinType.text, nullok=False),
                ColumnDef("Age", BuiltinType.int4, comment="age in weeks"),
            ],
            referenced_tables=["Species"],
            comment="An animal or person that was studied.",
        )
    )
    cat.create_asset(
        "Image",
        column_defs=[ColumnDef("Width", BuiltinType.int4), ColumnDef("Height", BuiltinType.int4)],
        referenced_tables=["Subject"],
        comment="A greyscale image of a subject.",
    )
    say("Subject: Name (required), Age, and Species, which must be a Species term.")
    say("Image:   an *asset* table: each row describes one file (URL, Filename, Length,")
    say("         MD5, SHA256, Description) plus our own Width, Height and Subject columns.")

    step(4, "Rows, checked as they go in")
    rids = cat.insert(
        "Subject",
        [
            {"Name": "S1", "Species": "mouse", "Age": 8},
            {"Name": "S2", "Species": "zebrafish", "Age": 30},
        ],
    )
    s1 = rids[0]
    stored = cat.resolve_rid(s1).row["Species"]
    say(f'Inserted Subject S1 with Species "mouse": the catalog stored "{stored}",')
    say("the canonical term, so every row spells it the same way.")
    say(f"Every row gets a RID, a short id unique in the whole catalog: S1 is {s1}.")
    say()
    say('Inserting a Subject with Species "hamster" and Age "young" is refused,')
    say("with every problem reported at once:")
    try:
        cat.insert("Subject", [{"Name": "S3", "Species": "hamster", "Age": "young"}])
    except ValidationError as err:
        for problem in err.problems:
            say(f"  - {problem}")
    else:  # pragma: no cover - the library would be broken
        say("  (unexpectedly accepted)")

    step(5, "Files as assets")
    by_name = dict(zip(["S1", "S2"], rids, strict=True))
    images = _write_images(root / "files")
    image_rows = [
        {**_file_columns(path), "Width": w, "Height": h, "Subject": by_name[subject]}
        for subject, path, w, h in images
    ]
    cat.insert("Image", image_rows)
    say(f"Wrote {len(images)} small image files to {root / 'files'} and registered each as an")
    say("Image row with its file:// URL, size, MD5 and SHA-256, linked to its Subject.")

    step(6, "Changes are kept")
    before = cat.snapshot()
    cat.update("Subject", [{"RID": s1, "Age": 9}])
    say(f"S1 had a birthday: Age 8 -> 9. The catalog was at snapshot {before} before the")
    say(f"change and is at snapshot {cat.snapshot()} now; the old row is kept in history.")

    subjects = list(cat.get_table_as_dict("Subject"))
    image_list = _pick(cat.get_table_as_dict("Image"), IMAGE_COLUMNS)
    history = cat.history(s1)
    past = list(cat.get_table_as_dict("Subject", as_of=before))
    if text:
        step(7, "The rows now")
        say("Subject:")
        out.rows(subjects, indent="  ")
        say()
        say("Image:")
        out.rows(image_list, indent="  ")

        step(8, "The history of one row")
        out.lines(history_lines(s1, history), indent="  ")

        step(9, "Reading the past")
        say(f"Subject as of snapshot {before}, before the update:")
        out.rows(past, indent="  ")
        _closing(out, root)
    return {
        "catalog": str(root / "catalog"),
        "species": [t.to_dict() for t in terms],
        "subjects": subjects,
        "images": image_list,
        "history": {"rid": s1, "versions": history},
        "as_of": {"snapshot": before, "subjects": past},
    }


def _closing(out: Output, root: Path) -> None:
    loc = shlex.quote(str(root / "catalog"))
    out.line()
    out.line("Explore it yourself:")
    for command in (
        "table list --kind table",
        "table show Subject",
        "vocab lookup Species mouse",
        "table rows Subject --filter Species=mouse",
        "table rows Image --json",
        "model show",
    ):
        out.line(f"  assetry --catalog {loc} {command}")
