"""The request body, bounded and checked before anything parses it.

`RequestBodyGuard` reads at most `MAX_BODY_BYTES` of a body — refusing a larger one with 413
as soon as its `Content-Length` says so, or as soon as streamed chunks pass the limit — and
refuses text that is not Unicode with a 422: invalid UTF-8 bytes, and JSON escapes of lone
UTF-16 surrogates (`"\\ud800"`), which Python decodes into strings that can be neither stored
(BSON is UTF-8) nor echoed. One client's body then costs at most the limit in memory and a
bounded time to parse, so it cannot stall others (OWASP ASVS V13.1.3 / V12.1.1).
"""

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.core.errors import SafeJSONResponse, validation_error

BODY_HEADERS = (b"content-length", b"content-type", b"transfer-encoding")
TEXT_TYPES = ("application/json", "application/x-www-form-urlencoded", "text/")
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class RequestBodyGuard:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {name: value for name, value in scope["headers"] if name in BODY_HEADERS}
        if (
            scope.get("http_version") in ("1.0", "1.1")
            and b"content-length" not in headers
            and b"transfer-encoding" not in headers
        ):
            # HTTP/1 without either header has no body (RFC 9112 section 6.3): nothing to read or
            # check. (HTTP/2 may stream one without Content-Length: guarded as any other.)
            await self.app(scope, receive, send)
            return
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        if body and content_type.startswith(TEXT_TYPES) and (problem := unicode_problem(body, content_type)):
            await validation_error(["body"], problem, "unicode_invalid")(scope, receive, send)
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # later reads only learn of a disconnect
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = SafeJSONResponse(
            {"detail": f"The request body is larger than {self.max_bytes} bytes."},
            status_code=413,
            # The rest of the body is never read: the connection cannot carry another request.
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


def unicode_problem(body: bytes, content_type: str) -> str | None:
    """Why `body` is not clean Unicode text, or None."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"The body is not valid UTF-8 (byte {exc.start})."
    if "json" in content_type and SURROGATE_ESCAPE.search(body) and _has_lone_surrogate(body):
        return "The body holds a lone UTF-16 surrogate escape (\\ud800-\\udfff), which is not Unicode text."
    return None


def _has_lone_surrogate(body: bytes) -> bool:
    # Rare: only bodies with a surrogate escape get here. json.loads joins proper pairs into one
    # character, so any surrogate left in a string or key was alone.
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # not JSON: FastAPI answers for that itself
        return False
    stack: list[Any] = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False
