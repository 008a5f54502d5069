"""The house's rooms: which package may import which, and the wire shared by client and
server (docs/architecture.md)."""

from __future__ import annotations

import ast
import inspect
from collections import defaultdict
from pathlib import Path

from assetry.backend import Backend
from assetry.client.http_backend import HttpBackend
from assetry.protocol.operations import OPERATIONS

SRC = Path(__file__).resolve().parents[1] / "src" / "assetry"

# Each package's layer, bottom first. A package imports only packages of its own layer or
# below, and no two packages import each other (docs/architecture.md draws this).
LAYERS = [
    {"errors", "faults", "config", "records", "protocol", "schemas"},  # plain data and settings
    {"store", "backend"},  # the two seams: ObjectStore and the Backend interface
    {"sql", "migrations", "client"},  # the Backend's implementations
    {"executions", "bags"},  # orchestration shared by every mode
    {"api", "artifacts"},  # the facade's namespaces
    {"catalog"},  # the Catalog facade
    # what users run; capture's steps are given or open a Catalog (its public API only)
    {"cli", "server", "ui", "compat", "capture", "__init__", "__main__"},
]
RANK = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}


def package_imports() -> dict[str, set[str]]:
    """For each top-level package or module of assetry, the others it imports (anywhere in
    its files, also inside functions and under ``TYPE_CHECKING``)."""
    names = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    names |= {p.stem for p in SRC.glob("*.py") if p.stem not in ("__init__", "__main__")}
    found: dict[str, set[str]] = defaultdict(set)
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC).parts
        owner = parts[0] if len(parts) > 1 else path.stem
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules: list[str] = []
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for module in modules:
                pieces = module.split(".")
                inside = pieces[0] == "assetry" and len(pieces) > 1 and pieces[1] in names
                if inside and pieces[1] != owner:
                    found[owner].add(pieces[1])
    return dict(found)


def test_every_package_has_a_layer() -> None:
    packages = {p.name for p in SRC.iterdir() if (p / "__init__.py").exists()}
    modules = {p.stem for p in SRC.glob("*.py")}
    assert (packages | modules) - {"py"} <= set(RANK), (packages | modules) - set(RANK)


def test_no_import_cycle_between_packages() -> None:
    imports = package_imports()
    cycles = {
        frozenset({a, b})
        for a, targets in imports.items()
        for b in targets
        if a in imports.get(b, set())
    }
    assert not cycles, f"packages importing each other: {cycles}"


def test_imports_only_go_down_the_layers() -> None:
    upward = {
        (package, target)
        for package, targets in package_imports().items()
        for target in targets
        if RANK[target] > RANK[package]
    }
    assert not upward, f"imports of a higher layer: {sorted(upward)}"


def test_orchestration_and_namespaces_reach_data_only_through_the_backend() -> None:
    imports = package_imports()
    for package in ("executions", "api"):
        assert not {"sql", "client", "server"} & imports.get(package, set()), package


def test_client_and_server_share_the_protocol_and_never_import_each_other() -> None:
    imports = package_imports()
    assert "server" not in imports["client"] and "client" not in imports["server"]
    assert "protocol" in imports["client"] and "protocol" in imports["server"]


def test_nothing_reads_the_private_attributes_of_another_module_s_objects() -> None:
    """``Catalog``'s privates are its own: no module of the package reads them."""
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name == "catalog.py":
            continue
        text = path.read_text(encoding="utf-8")
        for needle in ("cat._backend", "catalog._backend", "._local_root(", "cat._store("):
            if needle in text:
                offenders.append(f"{path.relative_to(SRC)}: {needle}")
    assert not offenders, offenders


def test_composites_are_written_once_in_the_backend_base() -> None:
    assert "iter_rows" not in HttpBackend.__dict__


def test_every_operation_is_a_backend_method_the_client_implements_alike() -> None:
    abstract = {
        name
        for name, member in inspect.getmembers(Backend)
        if getattr(member, "__isabstractmethod__", False)
        or getattr(getattr(member, "fget", None), "__isabstractmethod__", False)
    }
    # Not a route: closing is local (listings are the composite ``iter_rows``, written
    # once in Backend over the ``rows_page`` route).
    local = {"close"}
    assert set(OPERATIONS) == abstract - local, set(OPERATIONS) ^ (abstract - local)
    for name in OPERATIONS:
        ours, theirs = getattr(Backend, name), getattr(HttpBackend, name)
        assert theirs is not ours, f"HttpBackend does not implement {name}"
        if isinstance(ours, property):
            continue
        wanted = list(inspect.signature(ours).parameters)
        got = list(inspect.signature(theirs).parameters)
        assert got == wanted, (name, got, wanted)
