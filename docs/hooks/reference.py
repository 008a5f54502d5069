"""MkDocs hook: the reference pages generated from the code at build time.

- ``reference/python.md``: every name of ``assetry.__all__``, grouped, rendered by
  mkdocstrings from its docstring (the names that are not classes or functions, such as
  ``RID``, from the ``#:`` comment above their assignment).
- ``reference/cli.md``: the help of every ``assetry`` command, from the argument parser.
- ``reference/errors.md``: the exception tree, drawn from the classes.
- ``reference/http.md`` and ``reference/openapi.json``: the OpenAPI document of the server
  (built on a throwaway catalog) and a rendering of it, by role.
- ``reference/model-schema.md``: the JSON Schema of model documents, as shipped.

Nothing is fetched from the network; everything comes from the installed package.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import enum
import inspect
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

import assetry
from assetry import errors

SRC = Path(assetry.__file__).resolve().parent

# Sections of the Python reference: (title, what it is for, names). A name of __all__ in no
# section is listed under "Other names", so a new public name is never left out.
SECTIONS: list[tuple[str, str, list[str]]] = [
    (
        "The catalog",
        "Open or create a catalog; every operation is a method of `Catalog` or of one of "
        "its namespaces (`cat.artifacts`, `cat.features`).",
        ["Catalog"],
    ),
    (
        "Model definitions",
        "Tables, columns and types, as `create_table`, `create_asset` and `add_column` take them.",
        ["TableDef", "ColumnDef", "BuiltinType", "ForeignKeyDefinition", "TableDefinition"],
    ),
    (
        "Rows and terms",
        "What reads return.",
        ["ResolvedRID", "Term", "RID"],
    ),
    (
        "Workflows and executions",
        "Runs of programs, with their inputs and outputs.",
        ["Workflow", "ExecutionConfiguration", "Execution", "Status"],
    ),
    (
        "Datasets and bags",
        "Versioned collections of rows and the BagIt bags of their versions.",
        ["Dataset", "DatasetSpec", "DatasetVersion", "DatasetBag"],
    ),
    (
        "Named artifacts",
        "Versions of named models, data sets and objects, with tags, aliases and partitions.",
        ["ArtifactVersion", "Reference", "Materializer", "Artifact", "ArtifactType"],
    ),
    (
        "Automatic capture",
        "Steps, pipelines and framework saves recorded as executions.",
        ["step", "pipeline", "use", "autolog"],
    ),
    (
        "DerivaML's names",
        "Names DerivaML's documented code uses, so that it runs unchanged.",
        [
            "ColumnDefinition",
            "BuiltinTypes",
            "DerivaMLException",
            "DerivaSystemColumns",
            "MLVocab",
            "MLAsset",
            "ExecAssetType",
            "ExecMetadataType",
            "FileSpec",
        ],
    ),
]

# Namespaces of a Catalog, documented with it (not names of assetry/__init__.py).
NAMESPACES = {
    "cat.artifacts": "assetry.artifacts.namespace.Artifacts",
    "cat.features": "assetry.api.features.Features",
}


# --- documentation of the public names -------------------------------------------------


def _import_sources() -> dict[str, str]:
    """Name -> module of each name ``assetry/__init__.py`` imports."""
    tree = ast.parse((SRC / "__init__.py").read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                found[alias.asname or alias.name] = node.module
    return found


def _module_path(module: str) -> Path:
    parts = module.split(".")[1:]
    path = SRC.joinpath(*parts)
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def comment_doc(name: str) -> str | None:
    """The ``#:`` comment lines just above ``name``'s assignment (or the string just after
    it), in ``assetry/__init__.py`` or in the module it is imported from."""
    modules = ["assetry"]
    source = _import_sources().get(name)
    if source:
        modules.append(source)
    for module in modules:
        path = _module_path(module)
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        body = ast.parse(text).body
        for index, node in enumerate(body):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AnnAssign):
                targets = [node.target]
            if not any(isinstance(t, ast.Name) and t.id == name for t in targets):
                continue
            after = body[index + 1] if index + 1 < len(body) else None
            if (
                isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                return inspect.cleandoc(after.value.value)
            above: list[str] = []
            row = node.lineno - 2
            while row >= 0 and lines[row].lstrip().startswith("#:"):
                above.insert(0, lines[row].lstrip()[2:].strip())
                row -= 1
            if above:
                return " ".join(above)
    return None


def _own_doc(obj: Any) -> str | None:
    """The docstring written for ``obj`` itself (not inherited, not a dataclass's
    generated signature)."""
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else obj.__doc__
    if not isinstance(doc, str) or not doc.strip():
        return None
    if (
        inspect.isclass(obj)
        and dataclasses.is_dataclass(obj)
        and doc.startswith(obj.__name__ + "(")
    ):
        return None
    if inspect.isclass(obj) and issubclass(obj, enum.Enum) and doc.startswith("An enumeration"):
        return None
    return inspect.cleandoc(doc)


def alias_of(name: str) -> str | None:
    """The public name ``name`` is another name of (``ColumnDefinition`` -> ``ColumnDef``)."""
    obj = getattr(assetry, name)
    target = getattr(obj, "__name__", None)
    if (
        (inspect.isclass(obj) or inspect.isfunction(obj))
        and target != name
        and target in assetry.__all__
    ):
        return str(target)
    return None


def documentation(name: str) -> str | None:
    """What the reference says about public name ``name``, or None when nothing is
    written for it (``tests/test_docs.py`` fails then)."""
    obj = getattr(assetry, name)
    target = alias_of(name)
    if target is not None:
        return comment_doc(name) or _own_doc(getattr(assetry, target))
    own = getattr(obj, "__module__", "") or ""
    if (inspect.isclass(obj) or inspect.isfunction(obj)) and own.startswith("assetry"):
        return _own_doc(obj)
    return comment_doc(name)


def _link(name: str) -> str:
    """Where the reference documents public name ``name``."""
    if _is_error(name):
        return f"errors.md#assetry.errors.{name}"
    return f"#assetry.{name}"


def python_page() -> str:
    listed = [n for _, _, names in SECTIONS for n in names]
    sections = list(SECTIONS)
    errors_names = [n for n in assetry.__all__ if _is_error(n) and alias_of(n) is None]
    rest = [n for n in assetry.__all__ if n not in listed and n not in errors_names]
    if rest:
        sections.append(("Other names", "", rest))
    out = [
        "# Python API",
        "",
        "Every public name of `assetry` (what `assetry/__init__.py` exports), generated from",
        "the docstrings when the site is built. The errors have their own page:",
        "[the error tree](errors.md).",
        "",
    ]
    for title, intro, names in sections:
        present = [n for n in names if n in assetry.__all__]
        if not present:
            continue
        out += [f"## {title}", "", intro, ""] if intro else [f"## {title}", ""]
        for name in present:
            out += _entry(name)
        if title == "The catalog":
            for label, path in NAMESPACES.items():
                out += [
                    f"### `{label}`",
                    "",
                    f"::: {path}",
                    "    options:",
                    "      show_root_heading: false",
                    "      show_root_toc_entry: false",
                    "",
                ]
    out += [
        "## Errors",
        "",
        "See [the error tree](errors.md): " + ", ".join(f"`{n}`" for n in errors_names) + ".",
        "",
    ]
    return "\n".join(out)


def _entry(name: str) -> list[str]:
    obj = getattr(assetry, name)
    target = alias_of(name)
    if target is not None:
        note = comment_doc(name)
        text = f"Another name of [`{target}`]({_link(target)})"
        return [f"### `{name}`", "", text + (f": {note}" if note else "."), ""]
    module = getattr(obj, "__module__", "") or ""
    if (inspect.isclass(obj) or inspect.isfunction(obj)) and module.startswith("assetry"):
        lines = [f"::: assetry.{name}", "    options:", "      heading_level: 3"]
        if name == "Catalog":
            # Its DerivaML names are delegations made at import time: read them from the
            # live class, where they carry their methods' signatures and docstrings.
            lines += ["      force_inspection: true"]
        return [*lines, ""]
    doc = comment_doc(name) or ""
    value = repr(obj) if not inspect.isclass(obj) else obj.__name__
    return [f"### `{name}`", "", f"`{name} = {value}`", "", doc, ""]


# --- the error tree ----------------------------------------------------------------------


def _is_error(name: str) -> bool:
    obj = getattr(assetry, name)
    return inspect.isclass(obj) and issubclass(obj, errors.AssetryError)


def _status(cls: type) -> int:
    from assetry.protocol.errors import STATUS

    return next((status for base, status in STATUS if issubclass(cls, base)), 400)


def _error_tree(cls: type, depth: int = 0) -> Iterator[str]:
    first = (_own_doc(cls) or "").split("\n\n")[0].replace("\n", " ")
    name = cls.__name__
    yield f"{'    ' * depth}- [`{name}`](#assetry.errors.{name}) (HTTP {_status(cls)}): {first}"
    subclasses: list[type] = sorted(cls.__subclasses__(), key=lambda c: c.__name__)
    for sub in subclasses:
        if sub.__module__ == errors.__name__:
            yield from _error_tree(sub, depth + 1)


def errors_page() -> str:
    out = [
        "# The error tree",
        "",
        "Every error assetry raises is an `AssetryError`; each class is importable from",
        "`assetry` and `assetry.errors`. A class with two parents appears under both.",
        "No exception of SQLAlchemy, boto3 or requests reaches a caller: a database",
        "uniqueness or foreign-key violation is a `ConflictError` or a `ValidationError`,",
        "and `IntegrityError` is about bytes and checksums only. Over HTTP each class has",
        "one status, and the client raises the same class again (see the",
        "[HTTP API](http.md)).",
        "",
        *_error_tree(errors.AssetryError),
        "",
        "`DerivaMLException` is another name of `AssetryError`.",
        "",
        "## The classes",
        "",
        "::: assetry.errors",
        "    options:",
        "      show_root_heading: false",
        "      show_root_toc_entry: false",
        "      heading_level: 3",
        "      show_bases: true",
        "",
    ]
    return "\n".join(out)


# --- the command line --------------------------------------------------------------------


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices.items())
    return []


def cli_page() -> str:
    from assetry.cli.main import build_parser

    out = [
        "# Command line",
        "",
        "The help of every `assetry` command, as `assetry ... --help` prints it (generated",
        "from the argument parser when the site is built). `--catalog LOC` and `--json` are",
        "accepted before or after the command. Exit codes: 0 success, 1 a user error (one",
        "line on stderr), 2 a usage error.",
        "",
    ]
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "88"  # argparse wraps to the terminal width: make it fixed
    try:
        walk = [("assetry", build_parser(), 2)]
        while walk:
            path, parser, level = walk.pop(0)
            parser.prog = path
            out += [
                f"{'#' * level} `{path}`",
                "",
                "```text",
                parser.format_help().rstrip(),
                "```",
                "",
            ]
            children = [
                (f"{path} {name}", sub, min(level + 1, 4)) for name, sub in _subcommands(parser)
            ]
            walk[0:0] = children
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old
    return "\n".join(out)


# --- the HTTP API ------------------------------------------------------------------------


def openapi_document() -> dict[str, Any]:
    """The server's OpenAPI document, from an app over a throwaway catalog."""
    from assetry.server.app import create_app

    with tempfile.TemporaryDirectory() as folder:
        location = str(Path(folder) / "catalog")
        assetry.Catalog.create(location).close()
        document: dict[str, Any] = create_app(location).openapi()
    return document


ROLES = ["public", "reader", "writer", "curator", "admin"]


def http_page(document: dict[str, Any]) -> str:
    by_role: dict[str, list[tuple[str, str, dict[str, Any]]]] = {r: [] for r in ROLES}
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            role = (op.get("tags") or ["public"])[0]
            by_role.setdefault(role, []).append((method.upper(), path, op))
    out = [
        "# HTTP API",
        "",
        f"{document['info'].get('description', '')} Version {document['info']['version']}.",
        "",
        "A running server describes itself at `/openapi.json` and shows it at `/docs`",
        "(Swagger UI, served by the server itself). The same document, generated from the",
        "code when this site was built: [openapi.json](openapi.json). Below, each route with",
        "the least role that may call it (roles nest: reader < writer < curator < admin;",
        "*public* needs no token). A token goes in the `Authorization: Bearer` header.",
        "",
        "Every Backend operation is one `POST /api/v1/ops/<name>` whose JSON body holds the",
        'operation\'s arguments by name; the answer is `{"result": ...}`, or an error',
        '`{"error": {"class": ..., "message": ..., "fields": {...}}}` with the HTTP status of',
        "its class",
        '(see [the error tree](errors.md)). `assetry.Catalog("https://...")` makes these',
        "calls for you.",
        "",
    ]
    for role in by_role:
        routes = by_role[role]
        if not routes:
            continue
        out += [f"## {role}", "", "| method | path | what it does |", "|---|---|---|"]
        for method, path, op in routes:
            summary = (op.get("summary") or "").replace("|", "\\|").replace("\n", " ")
            out.append(f"| `{method}` | `{path}` | {summary} |")
        out.append("")
    out += ["## Operation arguments", ""]
    schemas = document.get("components", {}).get("schemas", {})
    for path, methods in document["paths"].items():
        if not path.startswith("/api/v1/ops/"):
            continue
        op = methods.get("post", {})
        body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
        schema = body.get("schema", {})
        if "$ref" in schema:
            schema = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        args = (
            ", ".join(f"`{name}`" + ("" if name in required else "?") for name in props) or "none"
        )
        out.append(f"- `{path.rsplit('/', 1)[-1]}`: {args}")
    out += ["", "(`?`: may be left out.)", ""]
    return "\n".join(out)


# --- the model document's JSON Schema ---------------------------------------------------


def model_schema_page() -> str:
    schema = (SRC / "schemas" / "model.schema.json").read_text(encoding="utf-8")
    pretty = json.dumps(json.loads(schema), indent=2)
    return "\n".join(
        [
            "# Model document schema",
            "",
            "The JSON Schema every model document is checked against before anything",
            "changes (`cat.apply_model`, `assetry model apply`). It ships in the package as",
            "`assetry/schemas/model.schema.json`; [the model document](../model-document.md)",
            "explains the format with a complete example.",
            "",
            "```json",
            pretty,
            "```",
            "",
        ]
    )


# --- the hook ---------------------------------------------------------------------------


def on_files(files: Files, config: MkDocsConfig) -> Files:
    document = openapi_document()
    pages = {
        "reference/python.md": python_page(),
        "reference/cli.md": cli_page(),
        "reference/errors.md": errors_page(),
        "reference/http.md": http_page(document),
        "reference/openapi.json": json.dumps(document, indent=2),
        "reference/model-schema.md": model_schema_page(),
    }
    for path, content in pages.items():
        files.append(File.generated(config, path, content=content))
    return files
