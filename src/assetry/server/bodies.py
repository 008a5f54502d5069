"""Request bodies: JSON parsed off the event loop, nesting bounded, models checked after
the caller is authenticated (a route reads its body only once the token is good)."""

from __future__ import annotations

import json
from typing import Any, TypeVar

import pydantic
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from assetry.errors import ValidationError

MAX_JSON_DEPTH = 64  # arrays and objects inside each other

Model = TypeVar("Model", bound=pydantic.BaseModel)


def parse_json(body: bytes) -> Any:
    """A request body as JSON: ``ValidationError`` if it is not JSON (or not UTF-8) or
    nests arrays and objects deeper than ``MAX_JSON_DEPTH``. Call it off the event loop."""
    try:
        value = json.loads(body)
    except RecursionError:
        raise ValidationError(
            f"the request body nests deeper than {MAX_JSON_DEPTH} arrays and objects"
        ) from None
    except ValueError as err:  # not JSON, or not UTF-8
        raise ValidationError(f"the request body is not JSON: {err}") from None
    check_depth(value)
    return value


def check_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> None:
    """``ValidationError`` if ``value`` nests arrays and objects deeper than ``limit``
    (walked without recursion)."""
    if not isinstance(value, dict | list):
        return
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            raise ValidationError(f"the request body nests deeper than {limit} arrays and objects")
        children = item.values() if isinstance(item, dict) else item
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))


def problems_of(err: pydantic.ValidationError, prefix: str = "") -> list[str]:
    """pydantic's errors as messages naming where each one is."""
    problems = []
    for problem in err.errors(include_url=False):
        where = ".".join(str(part) for part in problem.get("loc", ())) or "body"
        got = repr(problem.get("input"))
        got = got if len(got) <= 60 else got[:57] + "..."
        problems.append(f"{prefix}{where}: {problem.get('msg', 'invalid')} (got {got})")
    return problems


def _checked(model: type[Model], body: bytes) -> Model:
    try:
        return model.model_validate(parse_json(body))
    except pydantic.ValidationError as err:
        raise ValidationError(problems_of(err)) from None


async def read_model(request: Request, model: type[Model]) -> Model:
    """The request's JSON body as ``model`` (parsed and checked on a worker thread)."""
    body = await request.body()
    return await run_in_threadpool(_checked, model, body)


def body_schema(model: type[pydantic.BaseModel], defs: dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` documenting ``model`` as a route's required JSON body (for routes
    that read their body themselves); the schemas it refers to are added to ``defs``."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    defs.update(schema.pop("$defs", {}))
    content = {"application/json": {"schema": schema}}
    return {"requestBody": {"required": True, "content": content}}
