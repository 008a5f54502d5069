"""Path queries on the database: table instances linked through foreign keys, a tree of
conditions, and the rows of one instance (or chosen attributes) that the path selects.

The query is plain data (``Backend.path_query`` documents it), so the remote client sends
it over HTTP as it is. It becomes one SQLAlchemy Core statement with bound parameters:
the instances are joined along their links (inner, or left outer), the condition tree
restricts the joined rows, and the rows of the context instance are those whose RID is in
that join (a semi-join: a row joined several times is still returned once).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from assetry.errors import ValidationError
from assetry.sql.model import TableModel
from assetry.sql.names import MAX_COUNT
from assetry.sql.pathbuilder import Comparer
from assetry.sql.session import Session

MAX_INSTANCES = 32
MAX_NODES = 2_000
MAX_DEPTH = 64
JOINS = ("inner", "left")


@dataclass
class _Instance:
    alias: str
    model: TableModel
    table: sa.FromClause  # the SQL alias of the table in this query


def run(session: Session, query: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rows ``query`` selects (see ``Backend.path_query``)."""
    if not isinstance(query, Mapping):
        raise ValidationError(f"a path query is a mapping, got {type(query).__name__}")
    unknown = sorted(set(query) - {"instances", "where", "context", "attributes", "limit"})
    if unknown:
        raise ValidationError(f"a path query has no key {', '.join(map(repr, unknown))}")
    instances, joined = _instances(session, query.get("instances"))
    context = query.get("context", instances[-1].alias if instances else None)
    by_alias = {i.alias: i for i in instances}
    if context not in by_alias:
        raise ValidationError(f"the path's context {context!r} is not one of its instances")
    limit = query.get("limit")
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_COUNT
    ):
        raise ValidationError(f"limit must be a non-negative integer, got {limit!r}")
    problems: list[str] = []
    where = _Conditions(session, by_alias, problems).build(query.get("where"), "where", 0)
    attributes = _attributes(by_alias, context, query.get("attributes"), problems)
    if problems:
        raise ValidationError(problems)
    ctx = by_alias[context]
    inner = sa.select(ctx.table.c.RID).select_from(joined)
    if where is not None:
        inner = inner.where(where)
    base = session.table(ctx.model.name)
    if attributes is None or all(alias == context for alias, _, _ in attributes):
        chosen = attributes or [(context, c, c) for c in ctx.model.column_names]
        statement = (
            sa.select(*(base.c[column].label(name) for _, column, name in chosen))
            .where(base.c.RID.in_(inner))
            .order_by(base.c.RID)
        )
    else:
        statement = sa.select(
            *(by_alias[alias].table.c[column].label(name) for alias, column, name in attributes)
        ).select_from(joined)
        if where is not None:
            statement = statement.where(where)
        statement = statement.order_by(*(i.table.c.RID.asc().nulls_first() for i in instances))
    if limit is not None:
        statement = statement.limit(limit)
    return [dict(row) for row in session.conn.execute(statement).mappings()]


def _instances(session: Session, given: Any) -> tuple[list[_Instance], sa.FromClause]:
    """The path's instances, each linked to an earlier one, and the join of them all."""
    if isinstance(given, str | bytes) or not isinstance(given, Sequence) or not given:
        raise ValidationError("a path query needs 'instances': a list of table instances")
    if len(given) > MAX_INSTANCES:
        raise ValidationError(f"a path links at most {MAX_INSTANCES} table instances")
    instances: list[_Instance] = []
    joined: sa.FromClause | None = None
    for n, spec in enumerate(given):
        what = f"instance {n}"
        if not isinstance(spec, Mapping) or not isinstance(spec.get("alias"), str):
            raise ValidationError(
                f"{what}: expected {{'alias', 'table', 'link'}}, got {spec!r:.80}"
            )
        alias = spec["alias"]
        if any(i.alias == alias for i in instances):
            raise ValidationError(f"{what}: the alias {alias!r} is used twice in the path")
        model = session.model.table(str(spec.get("table")))
        table = session.table(model.name).alias(f"t{n}")
        instance = _Instance(alias, model, table)
        link = spec.get("link")
        if joined is None:
            if link is not None:
                raise ValidationError(f"{what}: the first instance of a path links to nothing")
            joined = table
        else:
            if not isinstance(link, Mapping):
                raise ValidationError(f"{what} ({alias!r}) needs a link to an earlier instance")
            source = next((i for i in instances if i.alias == link.get("from")), None)
            if source is None:
                raise ValidationError(
                    f"{what}: it links from {link.get('from')!r}, which is not an earlier "
                    f"instance of the path ({', '.join(i.alias for i in instances)})"
                )
            join = link.get("join", "inner")
            if join not in JOINS:
                raise ValidationError(f"{what}: join must be one of {', '.join(JOINS)}")
            left, right = _link_columns(source, instance, link.get("on"))
            on = source.table.c[left] == table.c[right]
            joined = joined.join(table, on, isouter=join == "left")
        instances.append(instance)
    assert joined is not None
    return instances, joined


def _link_columns(source: _Instance, target: _Instance, on: Any) -> tuple[str, str]:
    """The (source column, target column) of the foreign key linking the two instances:
    the one named by ``on``, or the only one there is."""
    a, b = source.model, target.model
    candidates = [(fk.column, fk.referenced_column) for fk in a.foreign_keys if fk.table == b.name]
    candidates += [(fk.referenced_column, fk.column) for fk in b.foreign_keys if fk.table == a.name]
    shown = ", ".join(f"{a.name}.{x} = {b.name}.{y}" for x, y in candidates) or "none"
    if on is not None:
        if (
            isinstance(on, str | bytes)
            or not isinstance(on, Sequence)
            or len(on) != 2
            or tuple(on) not in candidates
        ):
            raise ValidationError(
                f"cannot link {a.name} to {b.name} on {on!r:.80}: a link follows a foreign "
                f"key; the foreign keys between them: {shown}"
            )
        return str(on[0]), str(on[1])
    if not candidates:
        raise ValidationError(
            f"no foreign key links {a.name} and {b.name}: a path links tables that reference "
            "one another"
        )
    if len(candidates) > 1:
        raise ValidationError(
            f"{a.name} and {b.name} are linked by several foreign keys ({shown}); "
            "say which with on=(left column == right column)"
        )
    return candidates[0]


class _Conditions:
    """The condition tree as one SQL expression; problems are collected, not raised."""

    def __init__(
        self, session: Session, instances: dict[str, _Instance], problems: list[str]
    ) -> None:
        self.instances = instances
        self.problems = problems
        self.comparer = Comparer(session)
        self.nodes = 0

    def build(self, node: Any, where: str, depth: int) -> sa.ColumnElement[bool] | None:
        if node is None and depth == 0:
            return None
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            raise ValidationError(
                f"a path's conditions may have at most {MAX_NODES} parts, nested at most "
                f"{MAX_DEPTH} deep"
            )
        if not isinstance(node, Mapping):
            self.problems.append(f"{where}: expected a condition, got {node!r:.60}")
            return None
        for key, combine in (("and", sa.and_), ("or", sa.or_)):
            if key in node:
                parts = node[key]
                if len(node) != 1 or isinstance(parts, str) or not isinstance(parts, Sequence):
                    self.problems.append(f"{where}: {key!r} takes a list of conditions only")
                    return None
                built = [
                    self.build(p, f"{where}.{key}[{i}]", depth + 1) for i, p in enumerate(parts)
                ]
                if not built:
                    return sa.true() if key == "and" else sa.false()
                return None if any(b is None for b in built) else combine(*built)  # type: ignore[arg-type]
        if "not" in node:
            if len(node) != 1:
                self.problems.append(f"{where}: 'not' takes one condition only")
                return None
            inner = self.build(node["not"], f"{where}.not", depth + 1)
            return None if inner is None else sa.not_(inner)
        return self._comparison(node, where)

    def _comparison(self, node: Mapping[str, Any], where: str) -> sa.ColumnElement[bool] | None:
        unknown = sorted(set(node) - {"alias", "column", "op", "value"})
        if unknown:
            self.problems.append(f"{where}: unknown keys {', '.join(map(repr, unknown))}")
            return None
        instance = self.instances.get(node.get("alias"))  # type: ignore[arg-type]
        if instance is None:
            self.problems.append(
                f"{where}: {node.get('alias')!r} is not an instance of the path "
                f"({', '.join(self.instances)})"
            )
            return None
        name = node.get("column")
        ok = isinstance(name, str) and instance.model.has_column(name)
        column = instance.table.c[str(name)] if ok else instance.table.c.RID
        return self.comparer.compare(
            instance.model, column, name, node.get("op"), node.get("value"), where, self.problems
        )


def _attributes(
    instances: dict[str, _Instance], context: str, given: Any, problems: list[str]
) -> list[tuple[str, str, str]] | None:
    """``(alias, column, output name)`` of each attribute asked for, or None for every
    column of the context."""
    if given is None:
        return None
    if isinstance(given, str | bytes) or not isinstance(given, Sequence) or not given:
        problems.append("attributes must be a non-empty list of {'alias', 'column', 'name'}")
        return None
    out: list[tuple[str, str, str]] = []
    for n, spec in enumerate(given):
        what = f"attribute {n}"
        if not isinstance(spec, Mapping):
            problems.append(f"{what}: expected {{'alias', 'column', 'name'}}, got {spec!r:.60}")
            continue
        instance = instances.get(spec.get("alias"))  # type: ignore[arg-type]
        column = spec.get("column")
        if instance is None:
            problems.append(f"{what}: {spec.get('alias')!r} is not an instance of the path")
            continue
        if not isinstance(column, str) or not instance.model.has_column(column):
            problems.append(
                f"{what}: table {instance.model.name!r} has no column {column!r}; its "
                f"columns: {', '.join(instance.model.column_names)}"
            )
            continue
        name = spec.get("name") or column
        if not isinstance(name, str):
            problems.append(f"{what}: its name must be text, got {name!r}")
            continue
        out.append((instance.alias, column, name))
    names = [name for _, _, name in out]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        problems.append(
            f"attributes named twice: {', '.join(twice)}; rename one with .alias('new name')"
        )
    return out
