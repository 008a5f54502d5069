"""The catalog's object stores and routing rules, as recorded in the catalog.

The store a catalog was created with is the setting ``store``, named ``default``; the
others are rows of ``assetry_store``; the rules are rows of ``assetry_store_rule`` in
order; the setting ``default_store`` names the store objects that no rule matches go to.
Each change checks everything first and raises one clear error, leaving the recorded
stores and rules as they were.
"""

from __future__ import annotations

import contextlib

import sqlalchemy as sa

from assetry import config
from assetry.errors import ConflictError, NotFoundError, ValidationError
from assetry.records.stores import PRIMARY, StoreEntry, StoreRule, check_name, parse_size
from assetry.sql import internal
from assetry.sql.session import Session
from assetry.sql.vocab import resolve
from assetry.store.storeset import StoreConfig

DEFAULT_SETTING = "default_store"


def read_config(conn: sa.Connection) -> StoreConfig:
    """Every store's name and URL (as recorded: a relative path stays relative), the
    default store's name and the rules, in order."""
    st = internal.settings
    settings = dict(
        conn.execute(
            sa.select(st.c.key, st.c.value).where(st.c.key.in_(["store", DEFAULT_SETTING]))
        )
        .tuples()
        .all()
    )
    urls = {PRIMARY: settings.get("store") or ""}
    for name, url in conn.execute(
        sa.select(internal.stores.c.name, internal.stores.c.url).order_by(internal.stores.c.name)
    ):
        urls[name] = url
    r = internal.store_rules
    rules = [
        StoreRule(store, table, size_over)
        for store, table, size_over in conn.execute(
            sa.select(r.c.store, r.c.table_name, r.c.size_over).order_by(r.c.position)
        )
    ]
    return StoreConfig(urls, settings.get(DEFAULT_SETTING) or PRIMARY, rules)


def entries(config_: StoreConfig) -> list[StoreEntry]:
    return [StoreEntry(name, url, name == config_.default) for name, url in config_.urls.items()]


def add(s: Session, name: str, url: str) -> StoreEntry:
    check_name(name)
    if not isinstance(url, str) or not url.strip():
        raise ValidationError(f"store {name!r}: the URL {url!r} is empty")
    url = config.check_store_url(url.strip())
    current = read_config(s.conn)
    if any(existing.lower() == name.lower() for existing in current.urls):
        raise ConflictError(f"the catalog already has a store named {name!r}")
    for existing, existing_url in current.urls.items():
        if existing_url == url:
            raise ConflictError(f"{url} is already the catalog's store {existing!r}")
    s.conn.execute(
        internal.stores.insert().values(name=name, url=url, created=s.now, created_by=s.user)
    )
    return StoreEntry(name, url, False)


def check_removable(s: Session, name: str) -> StoreConfig:
    """``name``'s store may be removed (it must be empty too: the caller checks that)."""
    current = read_config(s.conn)
    _known(current, name)
    if name == PRIMARY:
        raise ConflictError(
            "the store 'default' is the one the catalog was created with; it cannot be removed"
        )
    if name == current.default:
        raise ConflictError(
            f"the store {name!r} is the default store; make another the default first"
        )
    named = [rule.describe() for rule in current.rules if rule.store == name]
    if named:
        raise ConflictError(
            f"the store {name!r} is named by rules ({'; '.join(named)}); remove them first"
        )
    return current


def remove(s: Session, name: str) -> None:
    check_removable(s, name)
    s.conn.execute(internal.stores.delete().where(internal.stores.c.name == name))


def set_default(s: Session, name: str) -> None:
    _known(read_config(s.conn), name)
    st = internal.settings
    updated = s.conn.execute(
        st.update().where(st.c.key == DEFAULT_SETTING).values(value=name)
    ).rowcount
    if not updated:
        s.conn.execute(st.insert().values(key=DEFAULT_SETTING, value=name))


def set_rule(
    s: Session, store: str, table: str | None, size_over: int | str | None
) -> list[StoreRule]:
    """Route new objects of ``table`` over ``size_over`` bytes to ``store``: the rule
    with the same table and size replaced, else a new rule appended (rules are tried in
    order; the first that matches wins)."""
    current = read_config(s.conn)
    _known(current, store)
    size = parse_size(size_over)
    if table is not None:
        table = _rule_target(s, table)
    if table is None and size is None:
        raise ValidationError(
            "a store rule needs a table, a size (size_over) or both; to send every new "
            "object to a store, make it the default store"
        )
    r = internal.store_rules
    same = (_matching(r.c.table_name, table), _matching(r.c.size_over, size))
    replaced = s.conn.execute(r.update().where(*same).values(store=store)).rowcount
    if not replaced:
        last = s.conn.execute(sa.select(sa.func.max(r.c.position))).scalar()
        s.conn.execute(
            r.insert().values(
                position=(last or 0) + 1, store=store, table_name=table, size_over=size
            )
        )
    return read_config(s.conn).rules


def remove_rule(s: Session, table: str | None, size_over: int | str | None) -> list[StoreRule]:
    size = parse_size(size_over)
    if table is not None:
        # As set_rule recorded it; a rule of a table or term gone since, as written.
        with contextlib.suppress(NotFoundError, ValidationError):
            table = _rule_target(s, table)
    r = internal.store_rules
    removed = s.conn.execute(
        r.delete().where(_matching(r.c.table_name, table), _matching(r.c.size_over, size))
    ).rowcount
    if not removed:
        rule = StoreRule("?", table, size).describe().removesuffix(" -> ?")
        raise NotFoundError(f"no store rule for {rule}")
    return read_config(s.conn).rules


def _matching(column: sa.ColumnElement[object], value: object) -> sa.ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


def _known(current: StoreConfig, name: str) -> None:
    if not isinstance(name, str) or name not in current.urls:
        raise NotFoundError(
            f"the catalog has no store named {name!r}; stores: {', '.join(current.urls)}"
        )


def _rule_target(s: Session, name: str) -> str:
    """The canonical name of the asset table or ``Asset_Type`` term ``name``."""
    if not isinstance(name, str) or not name:
        raise ValidationError(f"store rule: table {name!r} is not a name")
    table_name = s.model.find_ci(name)
    if table_name is not None:
        found = s.model.table(table_name)
        if found.kind != "asset":
            raise ValidationError(
                f"store rules route objects of asset tables (or Asset_Type terms); "
                f"{found.name!r} is a {found.kind} table"
            )
        return str(found.name)
    term = resolve.term_map(s, "Asset_Type").get(name.casefold())
    if term is None:
        raise NotFoundError(
            f"store rule: {name!r} is neither an asset table nor an Asset_Type term"
        )
    return term
