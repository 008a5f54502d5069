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

import datetime as dt
import json
import math
import os
import string
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from assetry import (
    AssetryError,
    BuiltinType,
    Catalog,
    ColumnDef,
    ConflictError,
    ExecutionConfiguration,
    TableDef,
    ValidationError,
)
from assetry.sql.names import RESERVED_PREFIXES, RESERVED_WORDS

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


FIGURES = Path(__file__).resolve().parents[2] / "build" / "figures"


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
            "command": "pytest -q -n 0 tests/sql/test_properties.py",
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


# --- values of every BuiltinType -----------------------------------------------------------

TYPES = [t.value for t in BuiltinType if t.name == t.value]
INT_RANGES = {"int2": 15, "int4": 31, "int8": 63}
FLOAT4_MAX = 3.4028234663852886e38
REFUSE = object()  # the expected outcome of an input the contract refuses


def _storable_text(value: str) -> bool:
    return "\x00" not in value and not any(0xD800 <= ord(c) <= 0xDFFF for c in value)


def _json_strings_ok(value: Any) -> bool:
    if isinstance(value, str):
        return _storable_text(value)
    if isinstance(value, dict):
        return all(_json_strings_ok(k) and _json_strings_ok(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_json_strings_ok(v) for v in value)
    return True


def _parse(value: Any, parse: Callable[[str], Any]) -> Any:
    try:
        return parse(value)
    except ValueError:
        return REFUSE


def expected(kind: str, value: Any) -> Any:
    """What the catalog must store for ``value`` in a ``kind`` column (API.md §2 and the
    documented normalisations), or REFUSE."""
    if value is None:
        return None
    if kind in ("text", "markdown", "uri"):
        return value if isinstance(value, str) and _storable_text(value) else REFUSE
    if kind in INT_RANGES:
        bits = INT_RANGES[kind]
        ok = type(value) is int and -(2**bits) <= value < 2**bits
        return value if ok else REFUSE
    if kind in ("float4", "float8"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return REFUSE
        try:
            number = float(value)
        except OverflowError:
            return REFUSE
        if not math.isfinite(number) or (kind == "float4" and abs(number) > FLOAT4_MAX):
            return REFUSE
        if kind == "float4" and number != 0 and float4(number) == 0:
            return REFUSE  # single precision would round it to zero
        return number
    if kind == "boolean":
        return value if isinstance(value, bool) else REFUSE
    if kind == "date":
        if isinstance(value, str):
            return _parse(value, dt.date.fromisoformat)
        ok = isinstance(value, dt.date) and not isinstance(value, dt.datetime)
        return value if ok else REFUSE
    if kind in ("timestamp", "timestamptz"):
        if isinstance(value, str):
            value = _parse(value, dt.datetime.fromisoformat)
        if not isinstance(value, dt.datetime):
            return REFUSE
        if kind == "timestamp":
            return value if value.tzinfo is None else REFUSE
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        try:
            return value.astimezone(dt.UTC)
        except OverflowError:
            return REFUSE
    assert kind == "json"
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return REFUSE
    return value if _json_strings_ok(value) and _json_keys_are_text(value) else REFUSE


def _json_keys_are_text(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_keys_are_text(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(_json_keys_are_text(v) for v in value)
    return True


def float4(number: float) -> float:
    """``number`` rounded to single precision."""
    return float(struct.unpack("<f", struct.pack("<f", number))[0])


def same(kind: str, got: Any, want: Any) -> bool:
    """Exact equality, types included (1 == 1.0 == True in Python, not here)."""
    if want is None:
        return got is None
    if kind in ("float4", "float8"):
        if type(got) is not float:
            return False
        if kind == "float4":  # equal at single precision (PostgreSQL stores a real)
            got, want = float4(got), float4(want)
        return got == want and math.copysign(1, got) == math.copysign(1, want)
    if kind == "json":
        return json_equal(got, want)
    if kind == "timestamptz":
        return type(got) is dt.datetime and got == want and got.utcoffset() == dt.timedelta(0)
    if kind == "timestamp":
        return type(got) is dt.datetime and got.tzinfo is None and got == want
    return type(got) is type(want) and got == want


def json_equal(a: Any, b: Any) -> bool:
    """Equal as JSON values: JSON has one number type (RFC 8259), so numbers compare by
    value (PostgreSQL's jsonb gives 1e16 back as the integer 10000000000000000, and a
    float back as its shortest decimal), while true is not 1 and every string, key and
    list item must match."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        if isinstance(a, float) or isinstance(b, float):  # jsonb keeps the decimal text
            return float(a) == float(b)
        return a == b
    if isinstance(a, str) or isinstance(b, str):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return False


zones = st.builds(
    dt.timezone,
    st.timedeltas(
        min_value=dt.timedelta(hours=-23, minutes=-59), max_value=dt.timedelta(hours=23, minutes=59)
    ),
)
json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**80), 2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=10),
)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
NATIVE: dict[str, st.SearchStrategy[Any]] = {
    "text": st.text(),
    "markdown": st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
    "uri": st.text(alphabet=string.printable),
    "int2": st.integers(-(2**15) - 2, 2**15 + 1),
    "int4": st.integers(-(2**31) - 2, 2**31 + 1),
    "int8": st.integers(-(2**63) - 2, 2**63 + 1),
    "float4": st.one_of(st.floats(width=32), st.floats(), st.floats(-1e-30, 1e-30)),
    "float8": st.floats(),
    "boolean": st.booleans(),
    "date": st.one_of(st.dates(), st.dates().map(str), st.text(string.digits + "-W", max_size=11)),
    "timestamp": st.one_of(st.datetimes(), st.datetimes().map(dt.datetime.isoformat)),
    "timestamptz": st.one_of(
        st.datetimes(timezones=zones),
        st.datetimes(timezones=zones).map(dt.datetime.isoformat),
        st.datetimes(),
    ),
    "json": st.one_of(json_values, st.lists(st.integers(), max_size=3)),
}
ANY_VALUE: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**80), 2**80),
    st.floats(),
    st.text(max_size=12),
    st.dates(),
    st.datetimes(),
    st.datetimes(timezones=zones),
    st.lists(st.integers(), max_size=3),
    st.binary(max_size=4),
)


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_values_of_every_type(
    engine: str, request: pytest.FixtureRequest, counter: Counter
) -> None:
    cat: Catalog = request.getfixturevalue(f"{engine}_catalog")
    cat.create_table(TableDef("Typed", [ColumnDef(f"C_{t}", t) for t in TYPES]))
    written: dict[str, tuple[str, Any]] = {}

    @profile(6 if engine == "sqlite" else 3)
    @given(data=st.data(), kind=st.sampled_from(TYPES), native=st.booleans())
    def check(data: st.DataObject, kind: str, native: bool) -> None:
        value = data.draw(NATIVE[kind] if native else ANY_VALUE, label="value")
        want = expected(kind, value)
        column = f"C_{kind}"
        rids, err = attempt(lambda: cat.insert("Typed", [{column: value}]))
        counter.tick(err is None)
        if err is not None:
            assert isinstance(err, ValidationError), err
            assert want is REFUSE, f"{kind} {value!r} refused: {err}"
            return
        assert want is not REFUSE, f"{kind} {value!r} accepted"
        got = cat.resolve_rid(rids[0]).row[column]
        assert same(kind, got, want), f"{kind}: wrote {value!r}, read back {got!r}"
        written[rids[0]] = (kind, want)

    check()
    # The same values through the streamed listing.
    seen = 0
    for row in cat.get_table_as_dict("Typed"):
        if row["RID"] in written:
            kind, want = written[row["RID"]]
            got = row[f"C_{kind}"]
            assert same(kind, got, want), f"{kind}: listing gives {got!r} for {want!r}"
            seen += 1
    assert seen == len(written)


def test_float_column_refuses_an_int_too_large_for_a_double(sqlite_catalog: Catalog) -> None:
    sqlite_catalog.create_table(TableDef("F", [ColumnDef("X", "float8")]))
    with pytest.raises(ValidationError):
        sqlite_catalog.insert("F", [{"X": 2**1024}])


def test_json_with_non_string_keys_round_trips_or_is_refused(sqlite_catalog: Catalog) -> None:
    cat = sqlite_catalog
    cat.create_table(TableDef("J", [ColumnDef("X", "json")]))
    for value in ({1: "a"}, {None: 1}, {True: 1}, {1.5: 1}):
        try:
            [rid] = cat.insert("J", [{"X": value}])
        except ValidationError:
            continue
        assert cat.resolve_rid(rid).row["X"] == value


def test_json_top_level_big_integer_round_trips(sqlite_catalog: Catalog) -> None:
    cat = sqlite_catalog
    cat.create_table(TableDef("J", [ColumnDef("X", "json")]))
    for value in (2**70 + 1, 2**63, -(2**63) - 1):
        [rid] = cat.insert("J", [{"X": value}])
        got = cat.resolve_rid(rid).row["X"]
        assert type(got) is int and got == value, (value, got)


def test_float4_underflow_is_checked(postgres_catalog: Catalog) -> None:
    cat = postgres_catalog
    cat.create_table(TableDef("F", [ColumnDef("X", "float4")]))
    try:
        [rid] = cat.insert("F", [{"X": 1e-50}])
    except ValidationError:
        return
    assert cat.resolve_rid(rid).row["X"] == 0.0


# --- vocabulary terms and synonyms ---------------------------------------------------------

term_text: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(["Mask", "mask", "MASK", "Straße", "STRASSE", "ı", "I", "ǅ", "Ǆ", "ﬀ", "FF"]),
    st.text(alphabet="abcABC ßſKk\u212a_-", min_size=1, max_size=5),
    st.text(max_size=8),
    st.none(),
    st.integers(),
)


def valid_term_text(value: object) -> bool:
    """API.md §4 names no rule; these are the documented refusals of vocab/resolve.py."""
    return (
        isinstance(value, str)
        and value.strip() == value != ""
        and not any(c in value for c in "\x00\n\r\t")
        and _storable_text(value)
    )


def case_variants(value: str) -> list[str]:
    """Spellings equal to ``value`` ignoring case (Unicode case folding)."""
    variants = [value, value.upper(), value.lower(), value.swapcase(), value.casefold()]
    return [v for v in dict.fromkeys(variants) if v.casefold() == value.casefold()]


def test_terms_and_synonyms(sqlite_catalog: Catalog, counter: Counter) -> None:
    cat = sqlite_catalog
    cat.create_vocabulary("Species")
    owner: dict[str, str] = {}  # every spelling, case-folded -> canonical term name
    synonyms: dict[str, list[str]] = {}

    def check_lookups() -> None:
        for name, syns in synonyms.items():
            for spelling in [name, *syns]:
                for variant in case_variants(spelling):
                    assert cat.lookup_term("Species", variant).name == name, (variant, name)

    @profile(3)
    @given(
        name=term_text,
        syns=st.lists(term_text, max_size=3),
        exists_ok=st.booleans(),
        extra=st.one_of(st.none(), term_text),
    )
    def check(name: Any, syns: list[Any], exists_ok: bool, extra: Any) -> None:
        term, err = attempt(
            lambda: cat.add_term("Species", name, synonyms=syns, exists_ok=exists_ok)
        )
        counter.tick(err is None)
        valid = valid_term_text(name) and all(valid_term_text(s) for s in syns)
        if not valid:
            assert err is not None and isinstance(err, ValidationError), (name, syns, err)
            return
        existing = owner.get(name.casefold())
        if existing is not None and existing.casefold() == name.casefold():
            if exists_ok:  # the existing term, with the synonyms it lacked added
                if any(owner.get(x.casefold(), existing) != existing for x in syns):
                    assert isinstance(err, ConflictError), (name, syns, err)
                    return
                assert err is None and term.name == existing, (name, err)
                for x in syns:
                    if x.casefold() not in owner:
                        owner[x.casefold()] = existing
                        synonyms[existing].append(x)
                assert term.synonyms == synonyms[existing], (term, synonyms[existing])
            else:
                assert isinstance(err, ConflictError), (name, err)
            return
        taken = [s for s in [name, *syns] if owner.get(s.casefold()) not in (None,)]
        if taken:
            assert isinstance(err, ConflictError), f"{name!r} {syns!r}: {err!r}"
            return
        assert err is None, f"term {name!r} with synonyms {syns!r} refused: {err}"
        want = [s for s in dict.fromkeys(syns, None)]
        unique: dict[str, str] = {}
        for s in want:
            if s.casefold() != name.casefold():
                unique.setdefault(s.casefold(), s)
        assert term.name == name and term.synonyms == list(unique.values())
        synonyms[name] = term.synonyms
        for spelling in [name, *term.synonyms]:
            owner[spelling.casefold()] = name
        if extra is not None:  # a synonym added afterwards
            added, err = attempt(lambda: cat.add_synonym("Species", name, extra))
            if not valid_term_text(extra):
                assert isinstance(err, ValidationError), (extra, err)
            elif owner.get(extra.casefold(), name) != name:
                assert isinstance(err, ConflictError), (extra, err)
            else:
                assert err is None, (extra, err)
                assert any(s.casefold() == extra.casefold() for s in [name, *added.synonyms])
                if extra.casefold() not in owner:
                    assert extra in added.synonyms
                    synonyms[name] = added.synonyms
                    owner[extra.casefold()] = name
        check_lookups()

    check()
    listed = {t.name: t.synonyms for t in cat.list_vocabulary_terms("Species")}
    assert listed == synonyms


# --- staged file names ---------------------------------------------------------------------

name_part = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits + "._- ", min_size=1, max_size=12),
    st.sampled_from([".", "..", "", "~", "a b", "é", "\\", "\x00", "\n", "ſ"]),
    st.text(min_size=1, max_size=6),
    st.integers(190, 260).map(lambda n: "x" * n),  # around the 200-byte component limit
)
staged_names = st.one_of(
    st.lists(name_part, min_size=1, max_size=3).map("/".join),
    st.lists(name_part, min_size=1, max_size=2).map(lambda p: "/" + "/".join(p)),
    st.text(max_size=20),
)


def staged_parts(name: str) -> list[str]:
    """The path components of a staged name; repeated and trailing '/' collapse."""
    return [p for p in name.split("/") if p]


def staged_name_ok(name: str) -> bool:
    """API.md §5: a new relative name, sub-folders allowed, inside the staging folder."""
    parts = staged_parts(name)
    return (
        bool(name.strip())
        and bool(parts)
        and not name.startswith("/")
        and "\x00" not in name
        and "\\" not in name
        and all(p not in (".", "..") for p in parts)
    )


def nested(names: list[str]) -> bool:
    """One name is a folder of another (a file and a folder of the same name): xfail below."""
    paths = [tuple(staged_parts(n)) for n in names]
    return any(a != b and b[: len(a)] == a for a in paths for b in paths) or len(set(paths)) < len(
        paths
    )


def test_staged_file_names(
    sqlite_catalog: Catalog, counter: Counter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cat = sqlite_catalog
    monkeypatch.chdir(tmp_path)  # so no generated name is an existing file
    cat.create_asset("Image")
    workflow = cat.create_workflow("names", "Training", url="https://x/y.py", checksum="1")

    @profile(1)
    @given(names=st.lists(staged_names, min_size=1, max_size=3, unique=True))
    def check(names: list[str]) -> None:
        assume(not nested(names))
        staged: dict[str, bytes] = {}
        exe = cat.create_execution(ExecutionConfiguration(workflow=workflow))
        with exe:
            for i, name in enumerate(names):
                path, err = attempt(lambda n=name: exe.asset_file_path("Image", n))
                counter.tick(err is None)
                if err is not None:
                    assert isinstance(err, ValidationError), (name, err)
                    continue
                assert staged_name_ok(name), f"staged name {name!r} accepted"
                root = exe.working_dir.resolve()
                assert path.resolve().is_relative_to(root), (name, path)
                content = f"{i}:{name}".encode("utf-8", "surrogatepass")
                path.write_bytes(content)
                staged[name] = content
        out, err = attempt(exe.upload_execution_outputs)
        assert err is None, (names, err)
        uploaded = out.get("Image", [])
        assert len(uploaded) == len(staged)
        assert sorted(a["Filename"] for a in uploaded) == sorted(
            staged_parts(n)[-1] for n in staged
        )
        for asset in uploaded:
            got = cat.download_asset(asset["RID"], tmp_path / "down" / asset["RID"]).read_bytes()
            assert got in staged.values() and len(got) == asset["Length"]

    check()


def _stage_and_upload(cat: Catalog, tmp_path: Path, names: list[str]) -> None:
    cat.create_asset("Image")
    workflow = cat.create_workflow("names", "Training", url="https://x/y.py", checksum="1")
    exe = cat.create_execution(ExecutionConfiguration(workflow=workflow))
    with exe:
        for name in names:
            try:
                exe.asset_file_path("Image", name).write_bytes(b"x")
            except ValidationError:
                continue
    for asset in exe.upload_execution_outputs().get("Image", []):
        cat.download_asset(asset["RID"], tmp_path / "down")


@pytest.mark.parametrize("length", [250, 256])
def test_staged_name_too_long_is_refused(
    sqlite_catalog: Catalog, tmp_path: Path, length: int
) -> None:
    _stage_and_upload(sqlite_catalog, tmp_path, ["d/" + "x" * length])


@pytest.mark.parametrize("names", [["a", "a/b"], ["a/b", "a"]])
def test_staged_file_and_folder_of_the_same_name(
    sqlite_catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, names: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    _stage_and_upload(sqlite_catalog, tmp_path, names)


def test_staged_name_with_a_lone_surrogate(sqlite_catalog: Catalog, tmp_path: Path) -> None:
    _stage_and_upload(sqlite_catalog, tmp_path, ["\ud800.bin"])


def test_bad_staged_names_are_validation_errors_naming_the_problem(
    sqlite_catalog: Catalog, tmp_path: Path
) -> None:
    cat = sqlite_catalog
    cat.create_asset("Image")
    workflow = cat.create_workflow("names", "Training", url="https://x/y.py", checksum="1")
    exe = cat.create_execution(ExecutionConfiguration(workflow=workflow))
    with pytest.raises(ValidationError, match="limit is 200"):
        exe.asset_file_path("Image", "d/" + "x" * 201)
    with pytest.raises(ValidationError, match="lone surrogate"):
        exe.asset_file_path("Image", "\ud800.bin")
    exe.asset_file_path("Image", "a")  # not written yet: the name alone reserves it
    with pytest.raises(ValidationError, match="needs a folder 'a'"):
        exe.asset_file_path("Image", "a/b")
    exe.asset_file_path("Image", "c/d").write_bytes(b"x")
    with pytest.raises(ValidationError, match="is a folder"):
        exe.asset_file_path("Image", "c")
