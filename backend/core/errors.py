"""Error answers: JSON with a reason, never a traceback, and handlers that cannot fail.

Whatever a client sends may come back in a validation error: lone UTF-16 surrogates, NaN,
megabytes of padding. The 422 handler therefore describes each error with a short, clean
excerpt of the input (OWASP ASVS V7.4.1: errors reveal nothing and stay generic in size), and
every answer here is rendered by `SafeJSONResponse`, which cannot raise on odd text.
"""

import json
import logging
import math
from typing import Any

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pymongo.errors import ConnectionFailure

logger = logging.getLogger(__name__)

DATABASE_RETRY_AFTER_SECONDS = 5
MAX_ERRORS = 20  # a 100,000-item body does not get 100,000 errors back
EXCERPT_CHARS = 80
MESSAGE_CHARS = 300


class SafeJSONResponse(JSONResponse):
    """JSON that always renders: lone surrogates become U+FFFD, NaN and infinities strings."""

    def render(self, content: Any) -> bytes:
        try:
            text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        except (TypeError, ValueError):
            text = json.dumps(_plain(content), ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8", "replace")


def refusal(status_code: int, code: str, reason: str) -> HTTPException:
    """A 4xx whose detail is `{"code", "reason"}`: a code for programs, a sentence for people."""
    return HTTPException(status_code, detail={"code": code, "reason": reason})


def clean_text(text: str, limit: int) -> str:
    """`text` cut to `limit` characters and made encodable (a lone surrogate becomes U+FFFD)."""
    short = text if len(text) <= limit else text[:limit] + "…"
    return short.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def excerpt(value: Any) -> Any:
    """What a validation error may show of the input: short scalars, and only a size for the rest."""
    if isinstance(value, bytes):
        return clean_text(value[: EXCERPT_CHARS * 4].decode("utf-8", "replace"), EXCERPT_CHARS)
    if isinstance(value, str):
        return clean_text(value, EXCERPT_CHARS)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict | list | tuple) and not value:
        return {} if isinstance(value, dict) else []
    if isinstance(value, dict):
        return f"(an object with {len(value)} keys)"
    if isinstance(value, list | tuple):
        return f"(an array of {len(value)} items)"
    return f"(a {type(value).__name__})"


def _plain(value: Any) -> Any:
    """`value` as JSON-safe primitives, for the rare answer `json.dumps` refused."""
    if isinstance(value, dict):
        return {clean_text(str(k), MESSAGE_CHARS): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return excerpt(value)


def describe_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    described = []
    for error in errors[:MAX_ERRORS]:
        item: dict[str, Any] = {
            "type": str(error.get("type", "value_error")),
            "loc": [p if isinstance(p, int) else clean_text(str(p), EXCERPT_CHARS) for p in error["loc"]],
            "msg": clean_text(str(error.get("msg", "")), MESSAGE_CHARS),
        }
        if "input" in error:
            item["input"] = excerpt(error["input"])
        if ctx := error.get("ctx"):
            item["ctx"] = {
                str(k): excerpt(v if isinstance(v, str | int | float) else str(v)) for k, v in ctx.items()
            }
        described.append(item)
    if len(errors) > MAX_ERRORS:
        described.append(
            {"type": "too_many_errors", "loc": [], "msg": f"{len(errors) - MAX_ERRORS} more errors not shown"}
        )
    return described


def validation_error(loc: list[str | int], msg: str, kind: str) -> SafeJSONResponse:
    """A 422 in FastAPI's shape, for problems found before FastAPI parses the request."""
    return SafeJSONResponse(
        {"detail": [{"type": kind, "loc": loc, "msg": msg}]},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


def add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return SafeJSONResponse(
            {"detail": describe_errors(list(exc.errors()))},
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )

    @app.exception_handler(ConnectionFailure)
    async def database_unavailable(request: Request, exc: ConnectionFailure) -> JSONResponse:
        # The driver reconnects on its own; the next request after the database returns succeeds.
        logger.warning(
            "database unavailable during %s %s: %s", request.method, request.url.path, type(exc).__name__
        )
        return SafeJSONResponse(
            {"detail": "The database is unavailable; try again shortly."},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error during %s %s", request.method, request.url.path)
        return SafeJSONResponse(
            {"detail": "Internal server error."},
            status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
