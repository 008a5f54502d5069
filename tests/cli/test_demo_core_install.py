"""`make demo` installs assetry without extras: the demo must run on the core dependencies.

The suite's environment has every extra, so the demo is run in a child process in which
the extras' modules cannot be imported (as on a fresh `make install`)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

# The top-level modules of every optional dependency in pyproject.toml's extras.
EXTRA_MODULES = [
    "pyarrow", "joblib", "yaml",                           # artifacts
    "psycopg", "boto3", "botocore",                        # postgres, s3
    "fastapi", "uvicorn", "swagger_ui_bundle", "jinja2", "markdown_it",  # server, ui
    "gcsfs", "adlfs", "google", "azure",                   # gcs, azure
    "watchdog",                                            # capture
    "mkdocs", "mlflow", "sklearn", "matplotlib",           # docs, bench, dev
]  # fmt: skip

CHILD = textwrap.dedent(
    """
    import importlib.abc
    import sys

    BLOCKED = set(sys.argv[1].split(","))

    class NoExtras(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r} (blocked)", name=name)
            return None

    sys.meta_path.insert(0, NoExtras())
    from assetry.cli.main import main

    sys.exit(main(["demo", "--dir", sys.argv[2]]))
    """
)


def test_the_demo_runs_without_any_extra(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, ",".join(EXTRA_MODULES), str(tmp_path / "tour")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert "Automatic capture" in done.stdout and "demo-threshold v1" in done.stdout
    assert "(blocked)" not in done.stdout + done.stderr


def test_the_blocker_blocks() -> None:
    """The child's blocker works: with pyarrow blocked, importing it fails (else the test
    above would pass whatever the demo imports)."""
    probe = CHILD.split("from assetry.cli.main")[0] + "import pyarrow\n"
    done = subprocess.run(
        [sys.executable, "-c", probe, "pyarrow", "unused"], capture_output=True, text=True
    )
    assert done.returncode != 0 and "(blocked)" in done.stderr
