"""The house's rooms: which package may import which, and the wire shared by client and
server (docs/architecture.md)."""

from __future__ import annotations

import ast
import inspect
from collections import defaultdict
from pathlib import Path

from assetry.catalog.backend import Backend
from assetry.client.http_backend import HttpBackend
from assetry.protocol.operations import OPERATIONS

SRC = Path(__file__).resolve().parents[1] / "src" / "assetry"

# Imports between packages that go both ways today: ``catalog/`` holds both the facade at
# the top and the SQL engine at the bottom. Moving the engine to ``sql/`` removes them;
# until then no new one may appear, and one that disappears must leave this list.
KNOWN_CYCLES = {
    frozenset({"catalog", "bags"}),
    frozenset({"catalog", "client"}),
    frozenset({"catalog", "datasets"}),
    frozenset({"catalog", "executions"}),
    frozenset({"catalog", "vocab"}),
}
# Packages at the bottom: they import only these (and the standard library or third
# parties).
BOTTOM = {
    "errors": set(),
    "config": {"errors"},
    "protocol": {"errors"},
    "store": {"errors"},
}


def package_imports() -> dict[str, set[str]]:
    """For each top-level package or module of assetry, the others it imports (anywhere in
    its files, also inside functions)."""
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


def test_no_new_import_cycle_between_packages() -> None:
    imports = package_imports()
    cycles = {
        frozenset({a, b})
        for a, targets in imports.items()
        for b in targets
        if a in imports.get(b, set())
    }
    assert cycles <= KNOWN_CYCLES, f"new import cycles: {cycles - KNOWN_CYCLES}"
    assert cycles == KNOWN_CYCLES, f"gone, remove from KNOWN_CYCLES: {KNOWN_CYCLES - cycles}"


def test_the_bottom_imports_nothing_above_it() -> None:
    imports = package_imports()
    for package, allowed in BOTTOM.items():
        assert imports.get(package, set()) <= allowed, (package, imports.get(package))


def test_client_and_server_share_the_protocol_and_never_import_each_other() -> None:
    imports = package_imports()
    assert "server" not in imports["client"] and "client" not in imports["server"]
    assert "protocol" in imports["client"] and "protocol" in imports["server"]


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
