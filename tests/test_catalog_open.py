"""Creating and opening catalogs: locations, settings, moves, bad locations."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assetry import Catalog, ConfigError, ConflictError, NotFoundError, ValidationError
from tests.conftest import PgDatabases
from tests.helpers import subject_image_model


def test_create_then_open_embedded(tmp_path: Path) -> None:
    with Catalog.create(tmp_path / "c") as cat:
        assert (tmp_path / "c" / "catalog.db").is_file()
        assert (tmp_path / "c" / "objects").is_dir()
        assert cat.store_location == str((tmp_path / "c" / "objects").resolve())
        prefix = cat.rid_prefix
    with Catalog(tmp_path / "c") as cat:
        assert cat.rid_prefix == prefix
        assert len(prefix) == 8


def test_two_catalogs_get_different_prefixes(tmp_path: Path) -> None:
    a = Catalog.create(tmp_path / "a")
    b = Catalog.create(tmp_path / "b")
    assert a.rid_prefix != b.rid_prefix
    a.close()
    b.close()


def test_a_moved_catalog_still_works(sqlite_catalog: Catalog, tmp_path: Path) -> None:
    subject_image_model(sqlite_catalog)
    [rid] = sqlite_catalog.insert("Subject", [{"Name": "S1"}])
    old = Path(sqlite_catalog.location)
    sqlite_catalog.close()
    new = tmp_path / "moved" / "elsewhere"
    new.parent.mkdir()
    shutil.move(str(old), str(new))
    with Catalog(new) as cat:
        assert cat.resolve_rid(rid).row["Name"] == "S1"
        assert cat.store_location == str((new / "objects").resolve())
        cat.insert("Subject", [{"Name": "S2"}])


def test_default_location_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Catalog.create(tmp_path / "env").close()
    monkeypatch.setenv("ASSETRY_CATALOG", str(tmp_path / "env"))
    with Catalog() as cat:
        assert Path(cat.location) == tmp_path / "env"
    monkeypatch.delenv("ASSETRY_CATALOG")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NotFoundError, match=".assetry"):
        Catalog()
    Catalog.create().close()
    assert (tmp_path / ".assetry" / "catalog.db").is_file()


def test_create_refuses_an_existing_catalog(tmp_path: Path) -> None:
    Catalog.create(tmp_path / "c").close()
    with pytest.raises(ConflictError, match="already exists"):
        Catalog.create(tmp_path / "c")


def test_create_refuses_an_existing_database_catalog(pg_databases: PgDatabases) -> None:
    url = pg_databases.clone()
    with pytest.raises(ConflictError, match="already"):
        Catalog.create(url, store="/tmp/x")


def test_create_makes_a_missing_postgres_database(
    pg_databases: PgDatabases, tmp_path: Path
) -> None:
    url = pg_databases.empty()
    name = url.rsplit("/", 1)[1] + "_new"
    pg_databases.created.append(name)
    new_url = url.rsplit("/", 1)[0] + "/" + name
    with Catalog.create(new_url, store=str(tmp_path / "objects")) as cat:
        assert "Execution" in cat.list_tables()
        assert cat.store_location == str((tmp_path / "objects").resolve())


@pytest.mark.parametrize(
    ("location", "store", "match"),
    [
        ("ftp://host/x", None, "unknown catalog location scheme"),
        ("https://catalog.example.org", None, "remote"),
        ("postgresql+psycopg://u@127.0.0.1:1/db", None, "needs an object store"),
        (None, "ftp://bucket/x", "unknown object store scheme 'ftp'.*s3://.*gs://"),
        ("mysql://u@h/db", None, "unknown catalog location scheme"),
    ],
)
def test_bad_locations_are_config_errors(
    tmp_path: Path, location: str | None, store: str | None, match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        Catalog.create(location or tmp_path / "c", store=store)
    assert not (tmp_path / "c" / "catalog.db").exists()


def test_opening_a_missing_catalog(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no catalog"):
        Catalog(tmp_path / "nothing")
    assert not (tmp_path / "nothing").exists()


def test_bad_domain_schema_name(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        Catalog.create(tmp_path / "c", domain_schema="my schema; drop")


def test_custom_domain_schema_and_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assetry.store import s3

    # What the catalog records is checked here; the bucket check at create time has its
    # own tests (tests/store/test_s3_create.py) against moto.
    monkeypatch.setattr(s3, "check_new_bucket", lambda url: None)
    with Catalog.create(tmp_path / "c", store="s3://bucket/prefix", domain_schema="eye") as cat:
        assert cat.domain_schema == "eye"
        assert cat.store_location == "s3://bucket/prefix"
