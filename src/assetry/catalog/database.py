"""Creating the PostgreSQL database of a new catalog when it does not exist yet."""

from __future__ import annotations

import sqlalchemy as sa

from assetry.catalog.engine import make_engine, normalize_url, translated_errors


def ensure_database(url: str) -> None:
    """Create the database named in a PostgreSQL ``url`` if it is missing."""
    parsed = sa.engine.make_url(normalize_url(url))
    if parsed.get_backend_name() != "postgresql" or not parsed.database:
        return
    admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    try:
        with translated_errors("creating the catalog database"):
            with admin.connect() as conn:
                exists = conn.execute(
                    sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                    {"name": parsed.database},
                ).first()
            if exists:
                return
            quoted = admin.dialect.identifier_preparer.quote_identifier(parsed.database)
            with admin.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.exec_driver_sql(f"CREATE DATABASE {quoted}")
    finally:
        admin.dispose()
