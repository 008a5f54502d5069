"""Property-based tests: every generated input is accepted and round-trips exactly, or is
refused with an assetry error (never another exception).

Covered: identifiers (tables, asset tables, vocabularies, columns), RIDs, values of every
``BuiltinType`` (on SQLite and PostgreSQL: the engines store them differently), vocabulary
terms and synonyms (case-insensitive), and the file names staged inside an execution.

Each test reuses one catalog for all its examples (a catalog per example is too slow), so
names are checked against the catalog's state at the time of the example. The CI profile
is small and deterministic; ``ASSETRY_HYPOTHESIS_PROFILE=long`` runs a larger sweep. The
number of examples run is printed and written to ``build/figures/hypothesis.json``.
"""

from __future__ import annotations

import json
import os
import string
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assetry import (
    AssetryError,
    Catalog,
    ColumnDef,
    ConflictError,
    TableDef,
    ValidationError,
)
from assetry.catalog.names import RESERVED_PREFIXES, RESERVED_WORDS

# --- profiles and the example counter ----------------------------------------------------

settings.register_profile(
    "ci",
    max_examples=40,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "long",
    max_examples=2000,
    derandomize=False,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PROFILE_NAME = os.environ.get("ASSETRY_HYPOTHESIS_PROFILE", "ci")
PROFILE = settings.get_profile(PROFILE_NAME)


def profile(scale: float = 1.0) -> settings:
    """The selected profile (applied per test, never loaded globally), with its example
    count scaled for cheap tests."""
    return settings(PROFILE, max_examples=max(1, int(PROFILE.max_examples * scale)))


FIGURES = Path(__file__).resolve().parents[1] / "build" / "figures"


class Counter:
    """Examples run by one test; written out when the test ends."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.examples = 0
        self.accepted = 0
        self.refused = 0
        self.started = time.perf_counter()

    def tick(self, accepted: bool) -> None:
        self.examples += 1
        if accepted:
            self.accepted += 1
        else:
            self.refused += 1

    def write(self) -> None:
        """One file per test, then the total over every test's file (rewritten atomically,
        so parallel workers never leave a torn summary)."""
        folder = FIGURES / "hypothesis"
        folder.mkdir(parents=True, exist_ok=True)
        record = {
            "test": self.name,
            "profile": PROFILE_NAME,
            "examples": self.examples,
            "accepted": self.accepted,
            "refused": self.refused,
            "seconds": round(time.perf_counter() - self.started, 2),
        }
        (folder / f"{self.name}.json").write_text(json.dumps(record, indent=1) + "\n")
        tests = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
        summary = {
            "examples": sum(t["examples"] for t in tests),
            "accepted": sum(t["accepted"] for t in tests),
            "refused": sum(t["refused"] for t in tests),
            "tests": tests,
            "command": "pytest -q -n 0 tests/test_properties.py",
        }
        tmp = FIGURES / f".hypothesis.{os.getpid()}.json"
        tmp.write_text(json.dumps(summary, indent=1) + "\n")
        os.replace(tmp, FIGURES / "hypothesis.json")
        print(
            f"\nhypothesis [{PROFILE_NAME}] {self.name}: {self.examples} examples "
            f"({self.accepted} accepted, {self.refused} refused), total {summary['examples']}"
        )


@pytest.fixture
def counter(request: pytest.FixtureRequest) -> Iterator[Counter]:
    c = Counter(request.node.name.replace("/", "_"))
    yield c
    c.write()


def attempt(call: Callable[[], Any]) -> tuple[Any, AssetryError | None]:
    """``(result, None)`` or ``(None, assetry error)``; any other exception fails the test
    with its type, message and the call that raised it."""
    try:
        return call(), None
    except AssetryError as err:
        return None, err
    except Exception as err:  # the property: nothing but assetry errors reach a user
        raise AssertionError(f"non-assetry exception {type(err).__name__}: {err!r}") from err


# --- identifiers ---------------------------------------------------------------------------

IDENT_RE = r"[A-Za-z][A-Za-z0-9_]*"
_ident_ok = __import__("re").compile(IDENT_RE + r"\Z")


def random_case(s: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(s), max_size=len(s)).map(
        lambda flips: "".join(c.swapcase() if f else c for c, f in zip(s, flips, strict=True))
    )


identifier_like = st.one_of(
    st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,20}", fullmatch=True),
    st.integers(50, 70).map(lambda n: "L" + "o" * (n - 1)),  # around the 63-byte limit
    st.sampled_from(sorted(RESERVED_WORDS)).flatmap(random_case),
    st.sampled_from(RESERVED_PREFIXES).map(lambda p: p + "x"),
    st.sampled_from(["A", "B", "Foo"]).flatmap(
        lambda n: st.sampled_from(["", "_Execution", "_Asset_Type", "_execution"]).map(
            lambda s: n + s
        )
    ),
)
any_name: st.SearchStrategy[Any] = st.one_of(
    identifier_like,
    identifier_like,
    st.text(max_size=30),
    st.text(alphabet=string.printable, max_size=30),
    st.none(),
    st.integers(),
    st.binary(max_size=8),
)


def name_shape_ok(name: object) -> bool:
    """The documented shape: ASCII letters, digits and '_', starting with a letter."""
    return isinstance(name, str) and bool(_ident_ok.match(name)) and len(name) <= 63


def plainly_fine(name: str) -> bool:
    """A name the contract says must be accepted when nothing else has it."""
    return (
        name_shape_ok(name)
        and len(name) <= 40
        and name.lower() not in RESERVED_WORDS
        and not name.lower().startswith(RESERVED_PREFIXES)
    )


def existing_names(cat: Catalog) -> set[str]:
    return {t.casefold() for t in cat.list_tables()}


def test_table_names(sqlite_catalog: Catalog, counter: Counter) -> None:
    cat = sqlite_catalog

    @profile(2)
    @given(name=any_name, kind=st.sampled_from(["table", "asset", "vocabulary"]))
    def check(name: Any, kind: str) -> None:
        existing = existing_names(cat)
        derived = [name, f"{name}_Asset_Type", f"{name}_Execution"] if kind == "asset" else [name]
        clash = isinstance(name, str) and any(d.casefold() in existing for d in derived)
        calls: dict[str, Callable[[], Any]] = {
            "table": lambda: cat.create_table(TableDef(name, [ColumnDef("A")])),
            "asset": lambda: cat.create_asset(name),
            "vocabulary": lambda: cat.create_vocabulary(name),
        }
        call = calls[kind]
        _, err = attempt(call)
        counter.tick(err is None)
        if err is not None:
            assert isinstance(err, ValidationError | ConflictError), err
            assert not (plainly_fine(name) and not clash), f"{kind} {name!r} refused: {err}"
            return
        assert name_shape_ok(name), f"{kind} name {name!r} accepted"
        assert not clash, f"{kind} {name!r} accepted although a name equal ignoring case exists"
        tables = cat.list_tables()
        assert name in tables
        if kind == "asset":
            assert {f"{name}_Asset_Type", f"{name}_Execution"} <= set(tables)
            assert cat.lookup_term("Asset_Type", name).name == name
        if kind == "table":
            [rid] = cat.insert(name, [{"A": "a"}])
        elif kind == "vocabulary":
            rid = cat.add_term(name, "T").rid
        else:
            return
        assert cat.resolve_rid(rid).table == name

    check()


def test_column_names(sqlite_catalog: Catalog, counter: Counter) -> None:
    cat = sqlite_catalog
    hosts = ["Host0"]
    cat.create_table(TableDef("Host0", [ColumnDef("Existing")]))

    @profile(2)
    @given(name=any_name, kind=st.sampled_from(["text", "int4", "json"]))
    def check(name: Any, kind: str) -> None:
        host = hosts[-1]
        columns = {c["name"].casefold() for c in columns_of(cat, host)}
        clash = isinstance(name, str) and name.casefold() in columns
        _, err = attempt(lambda: cat.add_column(host, ColumnDef(name, kind)))
        counter.tick(err is None)
        if err is not None:
            assert isinstance(err, ValidationError | ConflictError), err
            assert not (plainly_fine(name) and not clash), f"column {name!r} refused: {err}"
            return
        assert name_shape_ok(name), f"column name {name!r} accepted"
        assert not clash, f"column {name!r} accepted next to one equal ignoring case"
        value = {"text": "v", "int4": 7, "json": {"k": [1]}}[kind]
        [rid] = cat.insert(host, [{name: value}])
        row = cat.resolve_rid(rid).row
        assert row[name] == value
        if len(columns) > 150:  # stay far from the engines' column limits in long sweeps
            hosts.append(f"Host{len(hosts)}")
            cat.create_table(TableDef(hosts[-1], [ColumnDef("Existing")]))

    check()


def columns_of(cat: Catalog, table: str) -> list[dict[str, Any]]:
    doc = next(t for t in cat.model["tables"] if t["name"] == table)
    return list(doc["columns"])


# --- RIDs ----------------------------------------------------------------------------------

# Characters whose Unicode upper case is an ASCII letter of the RID alphabet: a RID is an
# ASCII string, so a spelling with one of these is not that RID.
CONFUSABLES = {"S": "\u017f", "K": "\u212a"}


def test_rids(sqlite_catalog: Catalog, counter: Counter) -> None:
    cat = sqlite_catalog
    cat.create_table(TableDef("Thing", [ColumnDef("N", "int4")]))
    known = {rid: "Thing" for rid in cat.insert("Thing", [{"N": n} for n in range(24)])}
    known[cat.add_term("Asset_Type", "Mask").rid] = "Asset_Type"
    # RIDs that contain a letter with a Unicode look-alike, so the strategy can use it.
    by_letter = sorted(known, key=lambda r: -sum(c in CONFUSABLES for c in r))

    def confusable(rid: str) -> str:
        for i, c in enumerate(rid):
            if c in CONFUSABLES:
                return rid[:i] + CONFUSABLES[c] + rid[i + 1 :]
        return rid + "\u017f"

    real = st.sampled_from(sorted(known))
    candidates: st.SearchStrategy[Any] = st.one_of(
        real,
        real.flatmap(random_case),
        real.map(lambda r: f" {r.lower()}\t"),
        st.sampled_from(by_letter[:4]).map(confusable),
        st.tuples(real, st.integers(0, 20), st.characters()).map(
            lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + 1 :]
        ),
        real.map(lambda r: r + "0"),
        st.text(max_size=20),
        st.text(alphabet="0123456789ABCDEFGHJKMNPQRSTVWXYZ-", max_size=14),
        st.none(),
        st.integers(),
        st.binary(max_size=12),
    )

    @profile(3)
    @given(candidate=candidates)
    def check(candidate: Any) -> None:
        found, err = attempt(lambda: cat.resolve_rid(candidate))
        counter.tick(err is None)
        exact = isinstance(candidate, str) and candidate.isascii()
        target = candidate.upper() if exact else None
        if err is not None:
            assert target not in known, f"{candidate!r} is RID {target} in another case: {err}"
            return
        assert isinstance(candidate, str) and candidate.strip().isascii(), (
            f"{candidate!r} resolved to {found.row['RID']} but is not an ASCII spelling"
        )
        rid = candidate.strip().upper()
        assert rid in known, f"{candidate!r} resolved to {found.row['RID']}"
        assert (found.table, found.row["RID"]) == (known[rid], rid)

    check()


def test_rid_look_alikes_are_not_rids(sqlite_catalog: Catalog) -> None:
    """Regression (found by test_rids): U+017F LONG S upper-cases to 'S', so
    ``resolve_rid('ABCD1234-1\\u017f')`` used to return row ABCD1234-1S."""
    cat = sqlite_catalog
    cat.create_table(TableDef("Thing", [ColumnDef("N", "int4")]))
    rids = cat.insert("Thing", [{"N": n} for n in range(40)])
    rid = next(r for r in rids if "S" in r or "K" in r)
    for letter, look_alike in CONFUSABLES.items():
        if letter in rid:
            with pytest.raises(AssetryError):
                cat.resolve_rid(rid.replace(letter, look_alike))
    assert cat.resolve_rid(f" {rid.lower()}\n").row["RID"] == rid
    with pytest.raises(AssetryError):
        cat.resolve_rid(f"\u3000{rid}")
