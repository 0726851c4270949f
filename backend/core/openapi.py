"""The OpenAPI schema names every status a route can answer, and the body of each error.

FastAPI documents a route's success and, when it has parameters or a body, 422. Everything
else is decided where FastAPI does not look: authentication dependencies (401, 403), the body
guard (413), FastAPI's body parser (400), rate limiters (429), the error handlers (503 while the
database is down), the route's own lookups (404). Without help, generated clients and contract
tests (schemathesis) disagree with the server. `document_errors` derives those statuses from
what each route is built of, in this one place, when the schema is first generated:

- 400 and 413: the route reads a body (one FastAPI cannot parse; one over MAX_BODY_BYTES);
- 401 with `WWW-Authenticate`: FastAPI found a security scheme among its dependencies;
- 403: a cookie scheme on a state-changing method (the CSRF check), a user dependency built with
  `superuser=True` or `verified=True`, or anything in `answers` that forbids;
- 404: a path parameter, an id that may name nothing (or someone else's);
- 429 and others: the route uses something `answers` maps to them, say the rate limiter;
- 503 with `Retry-After`: every route but those marked `openapi_extra=NO_DATABASE`;
- whatever a route declares itself (`responses={409: ...}`) keeps its words and gets the body.

Error bodies have one shape, `HTTPError`: `detail` is a string or `{"code", "reason"}`; 422 keeps
FastAPI's `HTTPValidationError`. Core imports no app, so what the apps use is recognised by
identity (`answers`, from main) or by what FastAPI itself exposes.
"""

import inspect
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

NO_DATABASE_KEY = "x-no-database"
NO_DATABASE: dict[str, Any] = {NO_DATABASE_KEY: True}
"""`openapi_extra` for a route that never touches the database: no 503 is documented for it."""

ERROR_REF = "#/components/schemas/HTTPError"
VALIDATION_ERROR_REF = "#/components/schemas/HTTPValidationError"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# What FastAPI Users' `current_user(...)` (and this app's authenticator, which keeps its
# signature) close over: a guard built with one of these set refuses with 403.
FORBIDDING_FLAGS = {"superuser": "not a superuser", "verified": "the email address is not verified"}

ERROR_SCHEMAS: dict[str, Any] = {
    "ErrorReason": {
        "title": "ErrorReason",
        "type": "object",
        "properties": {
            "code": {"type": "string", "title": "Code", "description": "stable, for programs"},
            "reason": {"type": "string", "title": "Reason", "description": "a sentence for people"},
        },
        "required": ["code", "reason"],
    },
    "HTTPError": {
        "title": "HTTPError",
        "type": "object",
        "properties": {
            "detail": {
                "title": "Detail",
                "anyOf": [{"type": "string"}, {"$ref": "#/components/schemas/ErrorReason"}],
            }
        },
        "required": ["detail"],
    },
}

DESCRIPTIONS = {
    400: "The body could not be parsed, or the request was refused; `detail` says why.",
    401: "Not signed in: no token, or one that is invalid, expired or revoked.",
    403: "Signed in, but not allowed.",
    404: "Nothing has this id (or it is not yours).",
    413: "The body is larger than the server accepts (MAX_BODY_BYTES).",
    429: "Too many attempts: try again after `Retry-After` seconds.",
    503: "The database is unavailable, or (SERVER_BUSY) every place for hashing or checking "
    "passwords is taken; try again after `Retry-After` seconds.",
}
REFUSED = "Refused; `detail` says why."
CSRF_REFUSAL = "a cookie-authenticated change without the X-CSRF-Token header"

HEADERS = {
    401: {
        "WWW-Authenticate": {
            "description": 'The scheme to use: `Bearer`, with `error="invalid_token"` for a refused token.',
            "required": True,
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {"description": "Seconds to wait.", "required": True, "schema": {"type": "integer"}}
    },
    503: {
        "Retry-After": {"description": "Seconds to wait.", "required": True, "schema": {"type": "integer"}}
    },
}


def document_errors(app: FastAPI, answers: Mapping[object, Collection[int]] | None = None) -> None:
    """Make `app.openapi()` document every error status its routes can answer.

    `answers` maps things a route may use — a dependency, or an object its endpoint or
    dependencies hold, such as the rate limiter — to the statuses they answer with.
    """
    # By identity; holding the thing too keeps its id from naming another object later.
    known = {id(thing): (thing, set(statuses)) for thing, statuses in (answers or {}).items()}
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:  # FastAPI caches it there: complete it once
            _complete(generate(), app, known)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def _complete(schema: dict[str, Any], app: FastAPI, known: dict[int, tuple[object, set[int]]]) -> None:
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {}).update(ERROR_SCHEMAS)
    cookie_schemes = {
        name for name, scheme in components.get("securitySchemes", {}).items() if scheme.get("in") == "cookie"
    }
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        used = _refusals(route.dependant, known)
        for method in route.methods:
            operation = schema["paths"][route.path_format][method.lower()]
            reasons = _statuses(operation, method, used, cookie_schemes)
            _document(operation["responses"], reasons)


def _statuses(
    operation: dict[str, Any], method: str, used: dict[int, list[str]], cookie_schemes: set[str]
) -> dict[int, list[str]]:
    """Status -> why, for what this operation is made of."""
    reasons: dict[int, list[str]] = {status: list(why) for status, why in used.items()}
    if "requestBody" in operation:
        reasons.setdefault(400, [])
        reasons.setdefault(413, [])
    security = operation.get("security", [])
    if security:
        reasons.setdefault(401, [])
        if method in UNSAFE_METHODS and any(name in cookie_schemes for option in security for name in option):
            reasons.setdefault(403, []).append(CSRF_REFUSAL)
    if any(parameter["in"] == "path" for parameter in operation.get("parameters", [])):
        reasons.setdefault(404, [])
    if not operation.pop(NO_DATABASE_KEY, False):
        reasons.setdefault(503, [])
    return reasons


def _document(responses: dict[str, Any], reasons: dict[int, list[str]]) -> None:
    for status, why in reasons.items():
        description = DESCRIPTIONS.get(status, REFUSED)
        if why:
            description = f"{description.rstrip('.')}: {'; or '.join(why)}."
        responses.setdefault(str(status), {"description": description})
    for code, response in responses.items():
        if not code.isdigit() or int(code) < 400:
            continue
        ref = VALIDATION_ERROR_REF if code == "422" else ERROR_REF
        response.setdefault("content", {"application/json": {"schema": {"$ref": ref}}})
        if int(code) in HEADERS and int(code) in reasons:
            response.setdefault("headers", {}).update(HEADERS[int(code)])
    # In status order, as people read them in /docs and the generated client.
    ordered = dict(sorted(responses.items()))
    responses.clear()
    responses.update(ordered)


def _refusals(dependant: Dependant, known: dict[int, tuple[object, set[int]]]) -> dict[int, list[str]]:
    """Statuses the route's endpoint and dependencies answer with, from what they use."""
    reasons: dict[int, list[str]] = {}
    for call in _calls(dependant):
        closure = _closure(call)
        for flag, why in FORBIDDING_FLAGS.items():
            if closure.get(flag) is True:
                reasons.setdefault(403, []).append(why)
        for thing in [call, *closure.values()]:
            for status in known.get(id(thing), (None, ()))[1]:
                reasons.setdefault(status, [])
    for why in reasons.values():
        why[:] = sorted(set(why))
    return reasons


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    if dependant.call is not None:
        yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def _closure(call: Callable[..., Any]) -> dict[str, Any]:
    """The variables a function closes over: what a dependency or endpoint factory gave it."""
    function = getattr(call, "__func__", call)
    return dict(inspect.getclosurevars(function).nonlocals) if inspect.isfunction(function) else {}
