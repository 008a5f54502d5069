"""The catalog the web interface's tests look at, built through the public API once per
test process (``built_catalog(build_ui_world)``): subjects of two species (enough rows
for three table pages), images stored as PNG and PGM, a training run that used the
images and made a model, a dataset with three versions, a named artifact, and hostile
text (markup, scripts, ``javascript:`` links) in every place a user can write text."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from assetry import BuiltinType, Catalog, ColumnDef, ExecutionConfiguration, TableDef
from assetry.ui import netpbm

# What a hostile user writes; no page may carry it unescaped.
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>'
XSS_NAME = "<img src=x onerror=window.__xss=1>"  # a term or file name (no slash)
XSS_MARKDOWN = (
    "Notes *emphasis* <script>window.__xss=1</script> "
    "[click](javascript:window.__xss=1) <img src=x onerror=window.__xss=1>"
)
SUBJECTS = 120  # three pages of 50


@dataclass
class UiWorld:
    """RIDs of what ``build_ui_world`` made."""

    subjects: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    xss_file: str = ""
    pgm: str = ""
    csv: str = ""
    model: str = ""
    training: str = ""
    workflow: str = ""
    dataset: str = ""
    versions: list[str] = field(default_factory=list)
    artifact: str = ""


def pgm(width: int, height: int, seed: int) -> bytes:
    """A greyscale test pattern."""
    pixels = bytes((x * seed + y * 7) % 256 for y in range(height) for x in range(width))
    return f"P5\n{width} {height}\n255\n".encode() + pixels


def build_ui_world(cat: Catalog) -> UiWorld:
    world = UiWorld()
    cat.create_vocabulary("Species", comment=XSS_MARKDOWN)
    cat.add_term("Species", "Mus musculus", "The house *mouse*.", synonyms=["mouse"])
    cat.add_term("Species", "Danio rerio", "Zebrafish.", synonyms=["zebrafish"])
    cat.add_term("Species", XSS_NAME, XSS_MARKDOWN)
    cat.create_table(
        TableDef(
            "Subject",
            [
                ColumnDef("Name", BuiltinType.text, nullok=False),
                ColumnDef("Age", BuiltinType.int4),
                ColumnDef("Notes", BuiltinType.markdown),
            ],
            referenced_tables=["Species"],
            comment="Animals studied. " + XSS_MARKDOWN,
        )
    )
    species = ["Mus musculus", "Danio rerio"]
    rows = [
        {"Name": f"S{i:03d}", "Age": i % 30, "Species": species[i % 2], "Notes": None}
        for i in range(SUBJECTS)
    ]
    rows[0] = {"Name": XSS, "Age": 1, "Species": XSS_NAME, "Notes": XSS_MARKDOWN}
    world.subjects = cat.insert("Subject", rows)
    cat.create_asset(
        "Image",
        column_defs=[ColumnDef("Width", BuiltinType.int4)],
        referenced_tables=["Subject"],
        comment="Images of subjects.",
    )
    cat.create_asset("Model", comment="Trained models.")
    files = Path(tempfile.mkdtemp(prefix="ui-world-"))  # sources, copied into the store
    try:
        paths = []
        for i in range(3):
            path = files / f"image-{i}.png"
            path.write_bytes(netpbm.to_png(pgm(16, 12, i + 3)))
            paths.append(path)
        (files / "pattern.pgm").write_bytes(pgm(24, 24, 5))
        (files / f"{XSS_NAME}.txt").write_text(XSS + "\n", encoding="utf-8")
        (files / "table.csv").write_text("a,b\n1,<b>x</b>\n2,y\n", encoding="utf-8")
        added = cat.upload_assets("Image", paths, columns={"Subject": world.subjects[1]})
        world.images = [a["RID"] for a in added]
        (world.pgm,) = [a["RID"] for a in cat.upload_assets("Image", [files / "pattern.pgm"])]
        (world.xss_file,) = [
            a["RID"]
            for a in cat.upload_assets("Image", [files / f"{XSS_NAME}.txt"], description=XSS)
        ]
        (world.csv,) = [a["RID"] for a in cat.upload_assets("Image", [files / "table.csv"])]
    finally:
        shutil.rmtree(files)
    wf = cat.create_workflow("train-classifier", workflow_type="Training", description=XSS)
    world.workflow = wf.rid
    config = ExecutionConfiguration(
        workflow=wf, assets=world.images, description="Train the classifier", parameters={"lr": 0.1}
    )
    with cat.create_execution(config) as exe:
        world.training = exe.rid
        exe.update_status("Running", "epoch 1 of 1")
        exe.asset_file_path("Model", "model.bin").write_bytes(b"weights " * 100)
    outputs = exe.upload_execution_outputs()
    world.model = outputs["Model"][0]["RID"]
    cat.add_dataset_element_type("Image")
    world.dataset = cat.create_dataset(dataset_types=["Training"], description=XSS_MARKDOWN)
    cat.add_dataset_members(world.dataset, world.images[:2])
    cat.add_dataset_members(world.dataset, world.images[2:])
    world.versions = [v.version for v in cat.dataset_history(world.dataset)]
    version = cat.artifacts.register(
        "classifier",
        artifact_type="Model",
        data={"weights": [1, 2, 3], "note": XSS},
        tags={"stage": XSS_NAME},
        parents=[world.model],
        description=XSS_MARKDOWN,
    )
    cat.artifacts.alias(version, "production")
    world.artifact = version.rid
    return world
