"""The generated routes: every Backend operation as ``POST /api/v1/ops/<name>``.

Each route is made from the Backend method's signature: the method's arguments as a JSON
object (typed in the OpenAPI document, values in the wire format of
``assetry.protocol.wire``), answered with ``{"result": ...}``. The endpoint is thin:
authenticate and check the role in ``operations.OPERATIONS``, then, on a worker thread,
parse the body, call the ``SqlBackend`` method as the token's user and encode the result.
"""

from __future__ import annotations

import inspect
import json
import typing
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pydantic
from fastapi import Depends, FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from assetry import config
from assetry.backend import Backend
from assetry.catalog import check_model_document
from assetry.errors import AssetryError, ValidationError
from assetry.protocol import wire
from assetry.protocol.operations import operation_path
from assetry.server import auth, bodies
from assetry.server.state import ServerState, authorizer, current_state

_REF_TEMPLATE = "#/components/schemas/{model}"


@dataclass(frozen=True)
class Operation:
    """A Backend method as its route calls it."""

    name: str
    doc: str
    params: tuple[inspect.Parameter, ...]  # without ``self``
    hints: dict[str, Any]  # the parameters' types (``**values``: a dict of values)
    model: type[pydantic.BaseModel] | None  # the arguments' model; None: it takes none


def add_operation(app: FastAPI, name: str, role: str) -> None:
    """Route ``POST /api/v1/ops/<name>`` to the Backend method ``name``, for callers who
    hold ``role``; the schemas its arguments refer to join ``app.state.schema_defs``."""
    op = operation(name)
    extra: dict[str, Any] | None = None
    if op.model is not None:
        schema = op.model.model_json_schema(
            ref_template=_REF_TEMPLATE, mode="validation", by_alias=True
        )
        app.state.schema_defs.update(schema.pop("$defs", {}))
        content = {"application/json": {"schema": schema}}
        extra = {"requestBody": {"required": True, "content": content}}
    app.add_api_route(
        operation_path(name),
        _endpoint(op, role),
        methods=["POST"],
        name=name,
        summary=op.doc.splitlines()[0],
        description=f"{op.doc}\n\nRole: {role}.",
        tags=[role],
        openapi_extra=extra,
    )


def operation(name: str) -> Operation:
    """The Backend method ``name`` read from its signature."""
    attribute = inspect.getattr_static(Backend, name)
    if isinstance(attribute, property):
        params: list[inspect.Parameter] = []
        hints: dict[str, Any] = {}
    else:
        params = [p for p in inspect.signature(attribute).parameters.values() if p.name != "self"]
        hints = typing.get_type_hints(attribute)
    fields: dict[str, Any] = {}
    for p in params:
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            hints[p.name] = dict[str, Any]
            fields[p.name] = (dict[str, Any], {})
        else:
            default = ... if p.default is inspect.Parameter.empty else p.default
            if hasattr(pydantic.BaseModel, p.name):  # e.g. "schema": keep the wire name
                fields[p.name + "_"] = (hints[p.name], pydantic.Field(default, alias=p.name))
            else:
                fields[p.name] = (hints[p.name], default)
    model: type[pydantic.BaseModel] | None = None
    if fields:
        # The arguments are documented by this model and checked by the Backend method
        # itself, so a remote caller gets exactly the errors an embedded caller gets;
        # when the method fails on a wrongly typed argument instead (a TypeError, not an
        # assetry error), this model names the argument (422, not 500).
        model = pydantic.create_model(
            "".join(part.title() for part in name.split("_")) + "Arguments",
            __config__=pydantic.ConfigDict(extra="forbid"),
            **fields,
        )
    doc = inspect.getdoc(attribute) or name
    return Operation(name, doc, tuple(params), hints, model)


def _endpoint(op: Operation, role: str) -> Callable[..., Awaitable[Response]]:
    """The route function of ``op``, for callers who hold ``role``."""

    async def endpoint(
        request: Request,
        principal: auth.Principal = Depends(authorizer(role, op.name)),
        state: ServerState = Depends(current_state),
    ) -> Response:
        body = await request.body()  # bounded by the app's guard
        answer = await run_in_threadpool(_run, state, op, body, principal)
        return Response(answer, media_type="application/json")

    return endpoint


def _run(state: ServerState, op: Operation, body: bytes, principal: auth.Principal) -> bytes:
    """One call of ``op``: the JSON answer to ``body``. Parsing, checking, the call and
    encoding its result all happen here, on a worker thread: a large or slow body never
    holds the event loop."""
    raw = bodies.parse_json(body) if op.model is not None else {}
    args = _arguments(op.params, op.hints, raw)
    try:
        result = _call(state, op.name, principal, args)
    except AssetryError:
        raise  # the method's own checks: what an embedded caller hears
    except Exception:
        # The method tripped over a value of the wrong type: say which argument.
        problems = _type_problems(op.model, raw) if op.model is not None else []
        if problems:
            raise ValidationError(problems) from None
        raise
    return json.dumps({"result": wire.encode(result)}, allow_nan=False).encode("utf-8")


def _arguments(
    params: Sequence[inspect.Parameter], hints: dict[str, Any], raw: Any
) -> tuple[list[Any], dict[str, Any]]:
    """The call's positional arguments (in the Backend method's order, defaults filled
    in) and its keyword-only extras (``**values`` of change_term)."""
    if not isinstance(raw, dict):
        raise ValidationError("the request body must be a JSON object of arguments")
    unknown = sorted(set(raw) - {p.name for p in params})
    if unknown:
        raise ValidationError(f"unknown arguments: {', '.join(unknown)}")
    positional: list[Any] = []
    extras: dict[str, Any] = {}
    for p in params:
        if p.name in raw:
            value = wire.shape(hints[p.name], wire.decode(raw[p.name]))
            if p.kind is p.VAR_KEYWORD and not isinstance(value, dict):
                raise ValidationError(
                    f"argument {p.name}: must be an object of named values, got {value!r}"
                )
        elif p.kind is p.VAR_KEYWORD:
            value = {}
        elif p.default is inspect.Parameter.empty:
            raise ValidationError(f"missing argument {p.name!r}")
        else:
            value = p.default
        if p.kind is p.VAR_KEYWORD:
            extras = value
        else:
            positional.append(value)
    return positional, extras


def _listed(value: Any) -> Any:
    """Sets (``$set`` on the wire) as lists, as a Sequence argument takes them."""
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if isinstance(value, list):
        return [_listed(v) for v in value]
    return value


def _type_problems(model: type[pydantic.BaseModel], raw: dict[str, Any]) -> list[str]:
    """How the arguments differ from the types the model documents (none: they fit)."""
    try:
        model.model_validate({k: _listed(wire.decode(v)) for k, v in raw.items()})
    except pydantic.ValidationError as err:
        return bodies.problems_of(err, "argument ")
    except (AssetryError, RecursionError):
        return []
    return []


def _call(
    state: ServerState,
    name: str,
    principal: auth.Principal,
    args: tuple[list[Any], dict[str, Any]],
) -> Any:
    backend = state.backend
    if name == "settings":
        return backend.settings
    positional, extras = args
    if name in ("apply_model", "import_rows"):
        # What the Python API checks before these calls, the server checks for callers
        # that come straight over HTTP.
        check_model_document(positional[0])
    if name == "import_rows":
        _check_import_tables(positional[1])
    # The backend authorizes by what the call touches (``sql/policy.py``): a bag
    # import that creates tables or terms needs curator, system tables are written only
    # by their own operations, built-in terms never change.
    with config.acting_as(principal.user, principal.role):
        result = getattr(backend, name)(*positional, **extras)
        if isinstance(result, typing.Iterator):
            result = list(result)
    return result


def _check_import_tables(tables: Any) -> None:
    if not isinstance(tables, dict) or not all(
        isinstance(rows, list) and all(isinstance(row, dict) for row in rows)
        for rows in tables.values()
    ):
        raise ValidationError("tables must map table names to lists of rows (objects)")
