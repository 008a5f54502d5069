"""``assetry demo``: build a small catalog step by step and explain what happens.

The first steps show the catalog itself (a vocabulary, tables, checked rows, history); the
rest is the provenance scenario of the API: files ingested as assets, a workflow, an
execution that reads them and writes derived files and metrics, the lineage graph of one
derived file, a dataset version handed over as a bag, a model registered as a named
artifact of that dataset and promoted to production, and automatic capture (a two-step
pipeline whose second run is a cache hit, checkpoints captured from a watched folder).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import shutil
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from assetry.catalog import Catalog
from assetry.cli.assets import short_sha
from assetry.cli.commands import history_lines
from assetry.cli.demo_capture import capture_tour
from assetry.cli.output import Output
from assetry.errors import ConflictError, ValidationError
from assetry.executions.workflow import ExecutionConfiguration
from assetry.records.datasets import DatasetSpec
from assetry.records.definitions import BuiltinType, ColumnDef, TableDef

DEFAULT_DIR = "assetry-demo"

SPECIES = [
    ("Mus musculus", "The house mouse.", ["mouse", "house mouse"]),
    ("Danio rerio", "The zebrafish.", ["zebrafish"]),
]

# (subject, file name, width, height, pixel pattern)
RAW_IMAGES: list[tuple[str, str, int, int, Callable[[int, int], int]]] = [
    ("S1", "s1-gradient.pgm", 32, 24, lambda x, y: 8 * x),
    ("S1", "s1-checks.pgm", 32, 32, lambda x, y: 255 * ((x // 4 + y // 4) % 2)),
    ("S2", "s2-rings.pgm", 24, 24, lambda x, y: 20 * ((x - 12) ** 2 + (y - 12) ** 2)),
]

IMAGE_COLUMNS = ["RID", "Filename", "Length", "Width", "Height", "Subject", "Asset_Type"]
WORKFLOW_URL = "assetry:demo"
MAX_VALUE = 255
PARAMETERS: dict[str, Any] = {"operation": "invert", "max_value": MAX_VALUE}
MODEL_NAME = "demo-classifier"


def _pgm(width: int, height: int, pixels: bytes) -> bytes:
    """A binary greyscale PGM image: tiny, real, and viewable by common image tools."""
    return f"P5\n{width} {height}\n255\n".encode("ascii") + pixels


def _read_pgm(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and pixels of a PGM written by ``_pgm``."""
    magic, size, _maxval, pixels = data.split(b"\n", 3)
    width, height = (int(v) for v in size.split())
    return width, height, pixels


def _mean(pixels: bytes) -> float:
    return round(sum(pixels) / len(pixels), 2) if pixels else 0.0


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
        summary = Tour(cat, root, out).run()
    if out.json_mode:
        out.json(summary)


def program() -> str:
    """How to run this command again from here, as the demo's lines print it: ``assetry``
    when that is what the shell finds, else the path it was run by (``.venv/bin/assetry``
    after ``make demo``, whose virtual environment need not be active)."""
    invoked = Path(sys.argv[0])
    if invoked.name != "assetry" or not invoked.exists():
        return "assetry"
    found = shutil.which("assetry")
    if found is not None and Path(found).resolve() == invoked.resolve():
        return "assetry"
    return shlex.quote(os.path.relpath(invoked))


class Tour:
    """The demo's steps; text goes to ``out`` unless it is in ``--json`` mode."""

    def __init__(self, cat: Catalog, root: Path, out: Output) -> None:
        self.cat = cat
        self.root = root
        self.out = out
        self.text = not out.json_mode
        self.number = 0
        self.summary: dict[str, Any] = {"catalog": str(root / "catalog")}
        self.metrics: list[dict[str, Any]] = []  # the execution's, per image

    def say(self, line: str = "") -> None:
        if self.text:
            self.out.line(line)

    def step(self, title: str) -> None:
        self.number += 1
        self.say()
        self.say(f"{self.number}. {title}")
        self.say("-" * (len(title) + len(str(self.number)) + 2))

    def run(self) -> dict[str, Any]:
        self.say("assetry demo: a tiny imaging study, built one step at a time.")
        self.model()
        subjects = self.rows()
        self.history(subjects["S1"])
        raw = self.ingest(subjects)
        derived = self.execution(raw)
        self.lineage(derived)
        self.dataset(raw, derived)
        self.artifact()
        capture_tour(self)
        self.summary["images"] = _pick(self.cat.list_assets("Image"), IMAGE_COLUMNS)
        if self.text:
            self.closing()
        return self.summary

    # --- the catalog ---------------------------------------------------------------------
    def model(self) -> None:
        cat = self.cat
        self.step("A catalog, a vocabulary and two tables")
        cat.create_vocabulary("Species", comment="The species of a subject.")
        for name, description, synonyms in SPECIES:
            cat.add_term("Species", name, description=description, synonyms=synonyms)
        cat.create_table(
            TableDef(
                "Subject",
                column_defs=[
                    ColumnDef("Name", BuiltinType.text, nullok=False),
                    ColumnDef("Age", BuiltinType.int4, comment="age in weeks"),
                ],
                referenced_tables=["Species"],
                comment="An animal that was studied.",
            )
        )
        cat.create_asset(
            "Image",
            column_defs=[
                ColumnDef("Width", BuiltinType.int4),
                ColumnDef("Height", BuiltinType.int4),
            ],
            referenced_tables=["Subject"],
            comment="A greyscale image of a subject.",
        )
        terms = cat.list_vocabulary_terms("Species")
        self.summary["species"] = [t.to_dict() for t in terms]
        self.say(f"Created an embedded catalog in {self.root / 'catalog'}: a SQLite database")
        self.say("plus a folder of file objects. Nothing else to set up. In it:")
        for term in terms:
            self.say(f"  Species term {term.name!r}, synonyms: {', '.join(term.synonyms)}")
        self.say("  Subject: Name (required), Age, and Species, which must be a Species term.")
        self.say("  Image:   an *asset* table: each row describes one stored file (Filename,")
        self.say("           Length, MD5, SHA256) plus our Width, Height and Subject columns.")

    def rows(self) -> dict[str, str]:
        cat = self.cat
        self.step("Rows, checked as they go in")
        rids = cat.insert(
            "Subject",
            [
                {"Name": "S1", "Species": "mouse", "Age": 8},
                {"Name": "S2", "Species": "zebrafish", "Age": 30},
            ],
        )
        stored = cat.resolve_rid(rids[0]).row["Species"]
        self.say(f'Inserted Subject S1 with Species "mouse": the catalog stored "{stored}",')
        self.say(
            f"the canonical term. Every row gets a RID unique in the catalog: S1 is {rids[0]}."
        )
        self.say('A Subject with Species "hamster" and Age "young" is refused, with every')
        self.say("problem reported at once:")
        try:
            cat.insert("Subject", [{"Name": "S3", "Species": "hamster", "Age": "young"}])
        except ValidationError as err:
            for problem in err.problems:
                self.say(f"  - {problem}")
        else:  # pragma: no cover - the library would be broken
            self.say("  (unexpectedly accepted)")
        return dict(zip(["S1", "S2"], rids, strict=True))

    def history(self, s1: str) -> None:
        cat = self.cat
        self.step("Changes are kept")
        before = cat.snapshot()
        cat.update("Subject", [{"RID": s1, "Age": 9}])
        versions = cat.history(s1)
        past = list(cat.get_table_as_dict("Subject", as_of=before))
        self.summary["subjects"] = list(cat.get_table_as_dict("Subject"))
        self.summary["history"] = {"rid": s1, "versions": versions}
        self.summary["as_of"] = {"snapshot": before, "subjects": past}
        self.say(f"S1 had a birthday (Age 8 -> 9) at snapshot {cat.snapshot()}; its history:")
        if self.text:
            self.out.lines(history_lines(s1, versions), indent="  ")
        old = next(row["Age"] for row in past if row["RID"] == s1)
        self.say(f"Reading as of snapshot {before} still gives S1 Age {old}.")

    # --- files and provenance ------------------------------------------------------------
    def ingest(self, subjects: Mapping[str, str]) -> list[dict[str, Any]]:
        cat = self.cat
        self.step("Files as assets")
        folder = self.root / "files"
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for _, name, width, height, pattern in RAW_IMAGES:
            pixels = bytes(pattern(x, y) % 256 for y in range(height) for x in range(width))
            (folder / name).write_bytes(_pgm(width, height, pixels))
            paths.append(folder / name)
        raw = cat.upload_assets("Image", paths, description="raw images of the demo")
        cat.update(
            "Image",
            [
                {"RID": a["RID"], "Subject": subjects[s], "Width": w, "Height": h}
                for a, (s, _, w, h, _) in zip(raw, RAW_IMAGES, strict=True)
            ],
        )
        self.summary["raw"] = [a["RID"] for a in raw]
        self.say(f"Wrote {len(paths)} small greyscale images to {folder} and ingested them with")
        self.say('cat.upload_assets("Image", paths). Each file was read once: its bytes went')
        self.say("into the object store under their SHA-256, and its row records size and")
        self.say("checksums. Then we filled in Width, Height and Subject with a plain update.")
        if self.text:
            self.out.table(
                ["RID", "FILENAME", "LENGTH", "SHA256"],
                ([a["RID"], a["Filename"], a["Length"], short_sha(a["SHA256"])] for a in raw),
                empty="(none)",
                indent="  ",
            )
        self.say("Even an ingest is an execution (of the built-in 'assetry ingest' workflow),")
        self.say("so raw files have provenance too.")
        return raw

    def execution(self, raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
        cat = self.cat
        self.step("A workflow and an execution")
        cat.add_term(
            "Asset_Type", "Processed_Image", description="An image computed from another one."
        )
        source = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
        wf = cat.create_workflow(
            "demo-processing",
            "Feature_Creation",
            description="Invert each image and measure its mean intensity.",
            url=WORKFLOW_URL,
            checksum=f"sha256:{source}",
        )
        rows = {a["Filename"]: cat.resolve_rid(a["RID"]).row for a in raw}
        config = ExecutionConfiguration(
            workflow=wf,
            assets=[a["RID"] for a in raw],
            description="Invert the raw images",
            parameters=dict(PARAMETERS),
        )
        with cat.create_execution(config) as exe:
            inputs = exe.asset_paths["Image"]
            exe.update_status("Running", f"inverting {len(inputs)} image(s)")
            metrics = self.metrics
            for path in inputs:
                row = rows[path.name]
                width, height, pixels = _read_pgm(path.read_bytes())
                inverted = bytes(MAX_VALUE - p for p in pixels)
                target = exe.asset_file_path(
                    "Image",
                    f"derived/{path.stem}-inverted.pgm",
                    asset_types=["Processed_Image"],
                    Width=width,
                    Height=height,
                    Subject=row["Subject"],
                )
                target.write_bytes(_pgm(width, height, inverted))
                metrics.append(
                    {
                        "input": row["RID"],
                        "output": target.name,
                        "mean_before": _mean(pixels),
                        "mean_after": _mean(inverted),
                    }
                )
            report = exe.asset_file_path("Execution_Asset", "metrics.json", ["Metrics_File"])
            report.write_text(json.dumps({"images": metrics}, indent=2) + "\n")
        outputs = exe.upload_execution_outputs()
        status, upload = exe.status, exe.upload_status
        self.summary["workflow"] = wf
        self.summary["execution"] = {"rid": exe.rid, "status": status, "upload_status": upload}
        self.summary["outputs"] = outputs
        self.say(f"Workflow {wf.rid} 'demo-processing' ({wf.workflow_type}) is the program;")
        self.say(f"execution {exe.rid} is one run of it, recorded with its parameters")
        self.say(f"{json.dumps(PARAMETERS)} and the environment it ran in.")
        self.say("  - Its inputs, the raw images, were fetched, verified against their SHA-256")
        self.say('    and placed read-only in its working directory: exe.asset_paths["Image"].')
        self.say('  - It wrote an inverted copy of each with exe.asset_file_path("Image",')
        self.say('    "derived/...", asset_types=["Processed_Image"], Width=..., ...) and a')
        self.say("    metrics.json (table Execution_Asset, type Metrics_File).")
        self.say("  - exe.upload_execution_outputs() stored them and linked them as its Output.")
        self.say(f"Status {status}, upload {upload}. Its outputs:")
        if self.text:
            self.out.table(
                ["TABLE", "RID", "FILENAME", "LENGTH", "ASSET_TYPE"],
                (
                    [table, a["RID"], a["Filename"], a["Length"], a["Asset_Type"]]
                    for table, assets in outputs.items()
                    for a in assets
                ),
                empty="(none)",
                indent="  ",
            )
        return list(outputs.get("Image", []))

    def lineage(self, derived: list[dict[str, Any]]) -> None:
        first = derived[0]
        graph = self.cat.lineage(first["RID"])
        self.summary["lineage"] = {
            "root": graph.root,
            "nodes": graph.nodes,
            "edges": [list(e) for e in graph.edges],
        }
        self.step("Lineage: where did a file come from?")
        self.say(f"cat.lineage({first['RID']!r}).to_text() walks upstream from the derived")
        self.say(f"{first['Filename']}: the run that made it, what that run used, and so on:")
        if self.text:
            self.out.lines(graph.to_text().splitlines(), indent="  ")
        loc = shlex.quote(str(self.root / "catalog"))
        self.say("The same graph for Graphviz (or --format mermaid, or prov for W3C PROV-JSON):")
        self.say(
            f"  {program()} --catalog {loc} lineage {first['RID']} --format dot | dot -Tsvg > g.svg"
        )
        self.summary["derived"] = first["RID"]

    def dataset(self, raw: list[dict[str, Any]], derived: list[dict[str, Any]]) -> None:
        """Mint a dataset version, export it, download it, validate it, import it."""
        cat = self.cat
        self.step("A dataset version, handed over as a BagIt bag")
        cat.add_dataset_element_type("Image")
        ds = cat.create_dataset(["Training"], description="demo training set")
        version = cat.add_dataset_members(ds, [a["RID"] for a in raw + derived])
        self.say(f"Dataset {ds}: {len(raw) + len(derived)} images, version {version}")
        exported = cat.export_dataset_bag(
            DatasetSpec(ds, version=version), dest=self.root / "export", archive="zip"
        )
        self.say(f"Exported (reproducible zip): {os.path.relpath(exported, self.root)}")
        bag = cat.download_dataset_bag(DatasetSpec(ds, version=version), dest=self.root / "bags")
        report = bag.validate()
        self.say(
            f"Downloaded and validated: {report.verified_files} files verified "
            f"({os.path.relpath(bag.path, self.root)})"
        )
        with Catalog.create(self.root / "second-catalog") as other:
            added = other.import_bag(bag)
            again = other.import_bag(bag)
            members = other.list_dataset_members(ds)
            self.say(
                f"Imported into a second catalog: {sum(added.values())} rows "
                f"({len(members.get('Image', []))} member images, same RIDs); "
                f"importing again adds {sum(again.values())}"
            )
        self.summary["dataset"] = {
            "rid": ds,
            "version": version,
            "archive": str(exported),
            "bag": str(bag.path),
            "imported": added,
        }

    def artifact(self) -> None:
        """Register a tiny model as a named artifact of the dataset, then promote it."""
        cat = self.cat
        dataset = self.summary["dataset"]
        self.step("A model as a named artifact, promoted to production")
        means = [m[key] for m in self.metrics for key in ("mean_before", "mean_after")]
        model = {
            "kind": "mean-intensity threshold",
            "threshold": round(sum(means) / len(means), 2) if means else 0.0,
            "labels": ["raw", "inverted"],
        }
        v = cat.artifacts.register(
            MODEL_NAME,
            artifact_type="Model",
            data=model,
            properties={"images": len(self.metrics) * 2},
            tags={"team": "imaging"},
            parents=[dataset["rid"]],
            description="Tells raw from inverted images by their mean intensity.",
        )
        self.say(f'cat.artifacts.register("{MODEL_NAME}", artifact_type="Model", data=model,')
        self.say('parents=[dataset]) stored a small "model" (a dict, saved as JSON by its')
        self.say(f"materializer) as version {v.version} of the name {MODEL_NAME}, RID {v.rid}.")
        self.say(
            f"The Register execution that made it used dataset {dataset['rid']} version "
            f"{dataset['version']}."
        )
        cat.artifacts.tag(v, stage="production")
        v = cat.artifacts.alias(v, "production")
        found = cat.artifacts.search("stage:production")
        self.say('cat.artifacts.tag(v, stage="production") and cat.artifacts.alias(v,')
        self.say('"production") promote it; cat.artifacts.search("stage:production") finds it:')
        if self.text:
            self.out.table(
                ["RID", "NAME", "VERSION", "TYPE", "TAGS", "ALIASES"],
                (
                    [
                        f.rid,
                        f.name,
                        f.version,
                        f.artifact_type,
                        ", ".join(f"{k}={t}" for k, t in sorted(f.tags.items())),
                        ", ".join(f.aliases),
                    ]
                    for f in found
                ),
                empty="(none)",
                indent="  ",
            )
        graph = cat.lineage(v.rid)
        self.say(f'cat.artifacts.get("{MODEL_NAME}", version="production") returns it, and')
        self.say(f"cat.lineage({v.rid!r}).to_text() walks back to the raw files:")
        if self.text:
            self.out.lines(graph.to_text().splitlines(), indent="  ")
        self.summary["artifact"] = {
            **v.to_dict(),
            "search": [f.rid for f in found],
            "lineage": {
                "root": graph.root,
                "nodes": graph.nodes,
                "edges": [list(e) for e in graph.edges],
            },
        }

    def closing(self) -> None:
        loc = shlex.quote(str(self.root / "catalog"))
        execution = self.summary["execution"]["rid"]
        derived = self.summary["derived"]
        self.out.line()
        self.out.line("Explore it yourself:")
        for command in (
            "table rows Subject --filter Species=mouse",
            f"history {self.summary['history']['rid']}",
            "assets list Image --type Processed_Image",
            "exec list",
            f"exec show {execution}",
            f"lineage {derived} --direction both",
            f"assets download {derived} ./downloaded",
            f"dataset history {self.summary['dataset']['rid']}",
            f"bag validate {shlex.quote(self.summary['dataset']['archive'])}",
            "artifacts search stage:production",
            f"artifacts show {MODEL_NAME}",
            f"artifacts get {MODEL_NAME} --version production --dest ./model",
            f"lineage {self.summary['capture']['model']['rid']}",
            "fsck",
            "model show",
        ):
            self.out.line(f"  {program()} --catalog {loc} {command}")
