"""``artifacts list|show|get|download|search|tag|alias|query|delete``: named artifacts
(API §12) from the shell.

``get`` and ``download`` write the same verified files; ``get`` is the everyday form (a
name, its latest version or ``--version N|ALIAS``, into ``./NAME-vN`` unless ``--dest``),
``download`` the exact one for scripts (a name or a version's RID, into a DEST you name).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assetry.catalog import Catalog
from assetry.cli.assets import short_sha
from assetry.cli.commands import open_catalog
from assetry.cli.output import Output, summarized, text_value
from assetry.errors import AssetryError, NotFoundError, ValidationError
from assetry.records.artifacts import ArtifactVersion

if TYPE_CHECKING:
    from assetry.cli.main import AddCommand, Group

LIST_HEADER = ["RID", "NAME", "VERSION", "TYPE", "TAGS", "ALIASES", "CREATED", "DESCRIPTION"]


# --- arguments -------------------------------------------------------------------------------


def _pairs(texts: Sequence[str] | None, what: str) -> dict[str, str]:
    """``KEY=VALUE`` texts as a dict; a malformed or repeated one is a ``ValidationError``."""
    pairs: dict[str, str] = {}
    for text in texts or []:
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise ValidationError(f"{what} {text!r} is not KEY=VALUE")
        key = key.strip()
        if key in pairs:
            raise ValidationError(f"{what} {key!r} is given twice")
        pairs[key] = value
    return pairs


def _when(text: str | None, option: str) -> dt.datetime | None:
    """An ISO 8601 date or date-time; without a time zone, UTC."""
    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(
            f"{option} {text!r} is not an ISO 8601 date or time "
            "(e.g. 2026-12-01 or 2026-12-01T08:00:00+00:00)"
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


# --- finding a version -----------------------------------------------------------------------


def _by_rid(cat: Catalog, text: str) -> ArtifactVersion | None:
    """The version whose RID is ``text`` (in any case), or None."""
    for spelling in dict.fromkeys([text, text.upper()]):
        try:
            found = cat.artifacts.get(spelling)
        except (NotFoundError, ValidationError):
            continue
        if found.rid.upper() == text.upper():
            return found
    return None


def find_version(cat: Catalog, ident: str, version: str | None = None) -> ArtifactVersion:
    """The version named by ``ident`` (a name: its latest, or ``version``: a number, an
    alias or ``latest``; or a version's RID, which ``version`` must then agree with)."""
    try:
        return cat.artifacts.get(ident, version=version)
    except NotFoundError:
        found = _by_rid(cat, ident)
        if found is None:
            raise
    if version is not None:
        wanted = cat.artifacts.get(found.name, version=version)
        if wanted.rid != found.rid:
            raise ValidationError(
                f"{found.rid} is {found.name} v{found.version}, but --version {version} is "
                f"v{wanted.version} ({wanted.rid}): give the name with --version, or the RID alone"
            )
    return found


# --- text ------------------------------------------------------------------------------------


def _pairs_text(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={text_value(v)}" for k, v in sorted(values.items()))


def _version_cell(v: ArtifactVersion) -> str:
    return f"{v.version} (deleted)" if v.deleted else str(v.version)


def _list_cells(v: ArtifactVersion) -> list[Any]:
    return [
        v.rid,
        v.name,
        _version_cell(v),
        v.artifact_type,
        _pairs_text(v.tags),
        ", ".join(v.aliases),
        v.created,
        v.description,
    ]


def version_table(out: Output, versions: Iterable[ArtifactVersion], empty: str) -> None:
    """The versions as the text table ``list`` prints."""
    out.table(LIST_HEADER, (_list_cells(v) for v in versions), empty=empty, full_last=True)


def _ref(v: ArtifactVersion | None) -> dict[str, Any] | None:
    return None if v is None else {"rid": v.rid, "name": v.name, "version": v.version}


def _title(v: ArtifactVersion) -> str:
    return f"{v.name} v{v.version} ({v.rid})"


# --- list, search, query ---------------------------------------------------------------------


def _listing(out: Output, versions: list[ArtifactVersion], empty: str, limit: int) -> None:
    if out.json_mode:
        out.json_list(versions)
        return
    version_table(out, versions, empty)
    if versions and len(versions) == limit:
        out.line(f"(the first {limit}: --limit and --offset page through more)")


def cmd_artifacts_list(args: argparse.Namespace, out: Output) -> None:
    """Versions of named artifacts, newest first, filtered and paged."""
    tags = _pairs(args.tags, "--tag")
    partitions = _pairs(args.partitions, "--partition")
    with open_catalog(args) as cat:
        found = cat.artifacts.list(
            artifact_type=args.type,
            name=args.name,
            tags=tags or None,
            partitions=partitions or None,
            include_deleted=args.include_deleted,
            limit=args.limit,
            offset=args.offset,
        )
        # An unknown name is an error, not an empty listing.
        unknown = not found and args.name is not None and not args.offset
        if unknown and not cat.artifacts.list(name=args.name, include_deleted=True, limit=1):
            raise NotFoundError(f"no artifact is named {args.name!r}")
    _listing(out, found, "(no artifacts)", args.limit)


def cmd_artifacts_search(args: argparse.Namespace, out: Output) -> None:
    """Versions matching every word: ``key:value`` a tag, ``type:`` and ``name:`` the type
    and the name, other words in the name, type or description."""
    text = " ".join(args.words)
    with open_catalog(args) as cat:
        found = cat.artifacts.search(text, limit=args.limit, offset=args.offset)
    _listing(out, found, f"(no artifacts match {text!r})", args.limit)


def cmd_artifacts_query(args: argparse.Namespace, out: Output) -> None:
    """The latest version of a name whose partitions match; with --from/--to, every one
    whose time partition is in [from, to), newest first."""
    partitions: dict[str, Any] = _pairs(args.partitions, "partition")
    at = _when(args.time, "--time")
    start, end = _when(args.start, "--from"), _when(args.end, "--to")
    if (start is None) != (end is None):
        raise ValidationError("--from and --to go together: give both ends of the time range")
    if at is not None and start is not None:
        raise ValidationError("give --time (one time partition) or --from/--to (a range), not both")
    with open_catalog(args) as cat:
        if start is not None and end is not None:
            found = cat.artifacts.query(args.name, partitions, time_range=(start, end))
        else:
            found = cat.artifacts.query(args.name, partitions, time_partition=at)
    if isinstance(found, ArtifactVersion):
        if out.json_mode:
            out.json(found)
        else:
            version_table(out, [found], "(none)")
        return
    if out.json_mode:
        out.json_list(found)
        return
    shown = _pairs_text(partitions)
    where = f" with {shown}" if shown else ""
    version_table(
        out,
        found,
        f"(no version of {args.name!r}{where} has a time partition in [{start}, {end}))",
    )


# --- show ------------------------------------------------------------------------------------


def _node(item: ArtifactVersion | Mapping[str, Any]) -> dict[str, Any]:
    """A parent or child as JSON: an artifact version, or a lineage node (asset, dataset)."""
    if isinstance(item, ArtifactVersion):
        return {
            "rid": item.rid,
            "kind": "artifact",
            "table": "Artifact_Version",
            "label": f"{item.name} v{item.version}",
            "name": item.name,
            "version": item.version,
            "artifact_type": item.artifact_type,
        }
    return dict(item)


def _generated_by(cat: Catalog, execution: str) -> dict[str, Any]:
    """The execution that made a version, with its workflow's name."""
    info: dict[str, Any] = {"execution": execution}
    try:
        row = cat.resolve_rid(execution).row
    except AssetryError:
        return info
    info.update(
        description=row.get("Description"),
        status=row.get("Status"),
        workflow=row.get("Workflow"),
        workflow_name=None,
    )
    if row.get("Workflow"):
        with contextlib.suppress(AssetryError):
            info["workflow_name"] = cat.resolve_rid(row["Workflow"]).row.get("Name")
    return info


def _field_lines(v: ArtifactVersion, made_by: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    yield "Type", v.artifact_type
    yield "Description", v.description
    yield "Created", v.created
    yield "Deleted", "yes (hidden from list, search and latest)" if v.deleted else "no"
    yield "Tags", _pairs_text(v.tags)
    yield "Aliases", ", ".join(v.aliases)
    yield "Partitions", _pairs_text(v.partitions)
    yield "Time", v.time_partition
    yield "Properties", _pairs_text(v.properties)
    execution = made_by["execution"]
    if made_by.get("workflow_name"):
        execution += f" ({made_by['workflow_name']}, {text_value(made_by.get('status'))})"
    yield "Execution", execution


def cmd_artifacts_show(args: argparse.Namespace, out: Output) -> None:
    """One version, everything about it, and what it came from and led to (one hop)."""
    with open_catalog(args) as cat:
        v = find_version(cat, args.artifact, args.version)
        made_by = _generated_by(cat, v.execution)
        parents = [_node(p) for p in cat.artifacts.parents(v)]
        children = [_node(c) for c in cat.artifacts.children(v)]
    if out.json_mode:
        out.json({"artifact": v, "generated_by": made_by, "parents": parents, "children": children})
        return
    out.line(f"Artifact {_title(v)}")
    for label, value in _field_lines(v, made_by):
        out.line(f"  {label + ':':<13}{text_value(value)}".rstrip())
    sections: list[tuple[str, list[str], list[list[Any]]]] = [
        (
            "Files",
            ["PATH", "RID", "LENGTH", "SHA256"],
            [[f["Path"], f["RID"], f["Length"], short_sha(f["SHA256"])] for f in v.files],
        ),
        (
            "Objects",
            ["NAME", "PATH", "MATERIALIZER", "FRAMEWORK", "PYTHON_TYPE"],
            [
                [
                    o.get("name"),
                    o.get("path"),
                    o.get("materializer"),
                    o.get("framework"),
                    o.get("python_type"),
                ]  # fmt: skip
                for o in v.objects
            ],
        ),
        (
            "References",
            ["URI", "SIZE", "SHA256"],
            [[r.uri, r.size_bytes, short_sha(r.sha256) or "(unverified)"] for r in v.references],
        ),
        ("Parents", ["KIND", "RID", "TABLE", "WHAT"], [_node_cells(p) for p in parents]),
        ("Children", ["KIND", "RID", "TABLE", "WHAT"], [_node_cells(c) for c in children]),
    ]
    for title, header, rows in sections:
        out.line()
        out.line(f"{title} ({len(rows)}):")
        out.summary_table(header, rows, "(none)", args.all, full_last=True, indent="  ")


def _node_cells(node: Mapping[str, Any]) -> list[Any]:
    label = text_value(node.get("label"))
    if node.get("kind") == "dataset" and node.get("version"):
        label += f" v{node['version']}"
    return [node.get("kind"), node.get("rid"), node.get("table"), label]


# --- get, download ---------------------------------------------------------------------------


def _fetch(args: argparse.Namespace, out: Output, ident: str, dest: str | None) -> None:
    with open_catalog(args) as cat:
        v = find_version(cat, ident, args.version)
        root = Path(dest) if dest is not None else Path(f"{v.name}-v{v.version}")
        if root.exists() and not root.is_dir():
            raise ValidationError(f"{root} exists and is not a directory")
        cat.artifacts.download(v, root)
    files = [
        {
            "path": f["Path"],
            "local": str(root / f["Path"]),
            "length": f["Length"],
            "sha256": f["SHA256"],
        }
        for f in v.files
    ]
    if out.json_mode:
        out.json(
            {
                "artifact": v,
                "dest": str(root),
                "files": files,
                "references": [r.to_dict() for r in v.references],
            }
        )
        return
    size = sum(int(f["length"]) for f in files)
    if files:
        out.line(f"{_title(v)}: {len(files)} file(s), {size} bytes, verified, in {root}")
    else:
        out.line(f"{_title(v)} holds no files: nothing written to {root}")
    summary = summarized((f["local"] for f in files), args.all)
    out.lines(summary.shown, indent="  ")
    more = summary.more()
    if more:
        out.line("  " + more)
    if v.references:
        out.line(f"{len(v.references)} reference(s) stay where they are:")
        out.lines((r.uri for r in v.references), indent="  ")


def cmd_artifacts_get(args: argparse.Namespace, out: Output) -> None:
    """Fetch a version's files by name (latest, or --version N|ALIAS) into --dest
    (default ./NAME-vN)."""
    _fetch(args, out, args.artifact, args.dest)


def cmd_artifacts_download(args: argparse.Namespace, out: Output) -> None:
    """Write a version's files, verified, into DEST, laid out by their artifact paths."""
    _fetch(args, out, args.artifact, args.dest)


# --- tag, alias, delete ----------------------------------------------------------------------


def cmd_artifacts_tag(args: argparse.Namespace, out: Output) -> None:
    """Set tags (KEY=VALUE) of a version and remove others (--remove KEY)."""
    tags = _pairs(args.pairs, "tag")
    removing = list(dict.fromkeys(args.remove or []))
    if not tags and not removing:
        raise ValidationError("nothing to change: give KEY=VALUE tags to set or --remove KEY")
    both = sorted(set(tags) & set(removing))
    if both:
        raise ValidationError(f"tag {both[0]!r} is both set and removed")
    with open_catalog(args) as cat:
        v = find_version(cat, args.artifact, args.version)
        removed = [key for key in removing if key in v.tags]
        if tags:
            v = cat.artifacts.tag(v, tags)
        if removed:
            v = cat.artifacts.untag(v, *removed)
    absent = [key for key in removing if key not in removed]
    if out.json_mode:
        out.json({"artifact": v, "set": tags, "removed": removed, "absent": absent})
        return
    out.line(f"{_title(v)} tags: {_pairs_text(v.tags) or '(none)'}")
    if absent:
        out.line(f"(no tag {', '.join(absent)} to remove)")


def cmd_artifacts_alias(args: argparse.Namespace, out: Output) -> None:
    """Point an alias of the name at this version; it moves from the version it named."""
    with open_catalog(args) as cat:
        v = find_version(cat, args.artifact, args.version)
        try:
            before: ArtifactVersion | None = cat.artifacts.get(v.name, version=args.alias)
        except NotFoundError:
            before = None
        v = cat.artifacts.alias(v, args.alias)
    previous = _ref(before)
    if out.json_mode:
        out.json({"artifact": v, "alias": args.alias, "previous": previous})
        return
    if before is None:
        was = " (new alias)"
    elif before.rid == v.rid:
        was = " (already)"
    else:
        was = f" (moved from v{before.version})"
    out.line(f"Alias {args.alias!r} of {v.name}: v{v.version} ({v.rid}){was}")


def cmd_artifacts_delete(args: argparse.Namespace, out: Output) -> None:
    """Hide a version from list, search and latest (curator); history and lineage keep it."""
    with open_catalog(args) as cat:
        v = find_version(cat, args.artifact, args.version)
        if args.version is None and v.rid.upper() != args.artifact.upper():
            raise ValidationError(
                f"which version of {v.name!r}? give --version N (the latest is "
                f"v{v.version}) or the version's RID"
            )
        changed = not v.deleted
        if changed:
            cat.artifacts.delete(v)
        after = cat.artifacts.get(v.rid)
        try:
            latest: ArtifactVersion | None = cat.artifacts.get(v.name)
        except NotFoundError:
            latest = None
    released = [a for a in v.aliases if a not in after.aliases]
    if out.json_mode:
        out.json(
            {
                "artifact": after,
                "changed": changed,
                "released_aliases": released,
                "latest": _ref(latest),
            }
        )
        return
    if not changed:
        out.line(f"{_title(v)} was already deleted: nothing changed")
        return
    out.line(
        f"Deleted {_title(v)}: hidden from list, search and latest "
        "(show, history and lineage still find it)"
    )
    if released:
        out.line(f"Alias(es) {', '.join(released)} no longer name a version of {v.name}")
    if latest is None:
        out.line(f"{v.name} has no other version: nothing is latest now")
    else:
        out.line(f"Latest of {v.name} is now v{latest.version} ({latest.rid})")


# --- the parser ------------------------------------------------------------------------------


def _positionals_anywhere(parser: argparse.ArgumentParser, dest: str) -> None:
    """Let the words of the list positional ``dest`` also come after options
    (``tag NAME --version 2 stage=production``).

    argparse fills a ``nargs="*"`` positional from the first run of positional words only
    and reports later ones as unrecognized; this parser collects those into ``dest``
    instead (what ``parse_intermixed_args`` does, which the subcommands cannot use).
    """
    parse = parser.parse_known_args

    def parse_known_args(
        args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = parse(args, namespace)
        later = [word for word in extras if not word.startswith("-")]
        if later:
            setattr(parsed, dest, [*(getattr(parsed, dest, None) or []), *later])
        return parsed, [word for word in extras if word.startswith("-")]

    setattr(parser, "parse_known_args", parse_known_args)  # noqa: B010 - a method of one object


def register(command: AddCommand, sub: Group) -> None:
    """Add ``artifacts list|show|get|download|search|tag|alias|query|delete``."""
    from assetry.cli.main import _non_negative

    group = command(
        sub, "artifacts", None, "named artifacts: versions, tags, aliases, partitions (§12)"
    )
    asub = group.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")

    def version_option(p: argparse.ArgumentParser, what: str = "the latest") -> None:
        p.add_argument(
            "--version", metavar="V", help=f"a version number, an alias or 'latest' ({what})"
        )

    def paging(p: argparse.ArgumentParser) -> None:
        p.add_argument("--limit", type=_non_negative, default=100, metavar="N", help="(100)")
        p.add_argument("--offset", type=_non_negative, default=0, metavar="N", help="(0)")

    p = command(asub, "list", cmd_artifacts_list, "artifact versions, newest first")
    p.add_argument("--type", metavar="T", help="only this Artifact_Type (e.g. Model)")
    p.add_argument("--name", metavar="N", help="only versions of this name")
    for option, dest, what in (
        ("--tag", "tags", "a tag"),
        ("--partition", "partitions", "a partition value"),
    ):
        p.add_argument(
            option,
            dest=dest,
            metavar="KEY=VALUE",
            action="extend",
            nargs="+",
            help=f"only versions with {what} (repeatable)",
        )
    p.add_argument(
        "--include-deleted", action="store_true", help="list deleted versions too, marked"
    )
    paging(p)

    p = command(asub, "show", cmd_artifacts_show, "one version: everything about it")
    p.add_argument("artifact", metavar="NAME_OR_RID")
    version_option(p)
    p.add_argument("--all", action="store_true", help="list every file (default: first 20)")

    get_help = (
        "fetch a version's files by name into ./NAME-vN (or --dest); "
        "`download` writes into a DEST you name"
    )
    split = (
        "get and download write the same verified files, laid out by their paths in the "
        "artifact. get is the everyday form: a NAME, its latest version or --version N|ALIAS, "
        "into ./NAME-vN unless --dest says otherwise. download is the exact one for scripts: "
        "a name or a version's RID, into a DEST you always name."
    )
    p = command(asub, "get", cmd_artifacts_get, get_help)
    p.epilog = split
    p.add_argument("artifact", metavar="NAME", help="an artifact name (or a version's RID)")
    version_option(p)
    p.add_argument("--dest", metavar="DIR", help="where to write (default: ./NAME-vN)")
    p.add_argument("--all", action="store_true", help="list every file (default: first 20)")

    download_help = (
        "write a version's files, verified, into DEST (for scripts; `get` picks the folder)"
    )
    p = command(asub, "download", cmd_artifacts_download, download_help)
    p.epilog = split
    p.add_argument("artifact", metavar="NAME_OR_RID")
    p.add_argument("dest", metavar="DEST", help="directory to write into (created if needed)")
    version_option(p)
    p.add_argument("--all", action="store_true", help="list every file (default: first 20)")

    p = command(asub, "search", cmd_artifacts_search, "versions matching words and key:value tags")
    p.add_argument(
        "words",
        metavar="TEXT",
        nargs="+",
        help="e.g. 'fraud stage:production type:Model' (type: and name: match the type and "
        "name; other key:value pairs are tags; other words the name, type or description)",
    )
    _positionals_anywhere(p, "words")
    paging(p)

    p = command(asub, "tag", cmd_artifacts_tag, "set or remove tags of a version")
    p.add_argument("artifact", metavar="NAME_OR_RID")
    p.add_argument("pairs", metavar="KEY=VALUE", nargs="*", help="tags to set")
    _positionals_anywhere(p, "pairs")
    version_option(p)
    p.add_argument("--remove", metavar="KEY", action="append", help="a tag to remove (repeatable)")

    p = command(asub, "alias", cmd_artifacts_alias, "point an alias (e.g. production) here")
    p.add_argument("artifact", metavar="NAME_OR_RID")
    p.add_argument("alias", metavar="ALIAS")
    version_option(p)

    p = command(
        asub,
        "query",
        cmd_artifacts_query,
        "the latest version whose partitions match; with --from/--to, all in the range",
    )
    p.add_argument("name", metavar="NAME")
    p.add_argument("partitions", metavar="KEY=VALUE", nargs="*", help="partition values")
    _positionals_anywhere(p, "partitions")
    p.add_argument("--time", metavar="T", help="the time partition (ISO 8601; UTC if no zone)")
    p.add_argument("--from", dest="start", metavar="T", help="range start (included)")
    p.add_argument("--to", dest="end", metavar="T", help="range end (excluded)")

    p = command(
        asub,
        "delete",
        cmd_artifacts_delete,
        "hide a version from list, search and latest (curator; history keeps it)",
    )
    p.add_argument("artifact", metavar="NAME_OR_RID")
    version_option(p, "required with a name")
