"""The React app, served by FastAPI from `frontend/dist` (built by `make run`).

Client-side routes fall back to index.html for browser navigations (Accept: text/html), and `/`
answers the page to any client that does not ask for JSON (`curl http://127.0.0.1:8000/`). API
routes, /docs and /openapi.json are matched first and keep working; an unknown path asked for
by a script still gets a JSON 404.

The build's files go out as they were built: `npm run build` writes a `.br` and a `.gz` twin
beside each compressible file (frontend/scripts/precompress.mjs), and a client that accepts the
coding gets the twin. Only these files are ever compressed: nothing the API answers, so no
response that can carry a secret next to text an attacker chose, which is what BREACH reads
secrets through. Cache lifetimes: a year for Vite's fingerprinted assets (a new build names new
files), `no-cache` for index.html (it names this build's assets), an hour for the rest.
"""

import os
import re
import stat
from mimetypes import guess_type
from pathlib import Path, PurePosixPath

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse
from starlette.types import Scope

NOT_BUILT = """<!doctype html><html lang="en"><meta charset="utf-8"><title>FARM Auth</title>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 3rem auto">
<h1>FARM Auth</h1><p>The frontend is not built yet: <code>make run</code> builds it
(or <code>cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</code>).</p>
<p>The API is up: <a href="/docs">/docs</a>.</p></body></html>"""

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
AN_HOUR = "public, max-age=3600"
# Vite's default file names in assets/: name-HASH.ext, HASH 8 characters of base64url.
FINGERPRINTED = re.compile(r"-[A-Za-z0-9_-]{8}\.[A-Za-z0-9]+$")
# The twins precompress.mjs writes, best first: brotli is the smaller.
TWINS = {"br": ".br", "gzip": ".gz"}
# A weight (RFC 9110 section 12.4.2): 0 to 1, at most three decimals.
QVALUE = re.compile(r"0(\.[0-9]{0,3})?|1(\.0{0,3})?")


def cache_control(relative: PurePosixPath) -> str:
    """The cache lifetime of a file of the build, by its path in dist/."""
    if relative == PurePosixPath("index.html"):
        return REVALIDATE
    if relative.parts[0] == "assets" and FINGERPRINTED.search(relative.name):
        return IMMUTABLE
    return AN_HOUR


def preferred_coding(accept_encoding: str, available: list[str]) -> str | None:
    """The coding of `available` (best first) that `accept_encoding` weighs highest, or None for
    the file as it is. No header, `identity`, a weight of 0 and an entry that does not parse
    (`br;q=2`, `gzip;q=abc`) all mean no twin: malformed input never fails the request."""
    weights: dict[str, float] = {}
    for entry in accept_encoding.split(","):
        coding, *parameters = (part.strip() for part in entry.split(";"))
        weight = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                weight = float(value) if QVALUE.fullmatch(value := value.strip()) else 0.0
        weights.setdefault(coding.lower(), weight)
    if "x-gzip" in weights:  # RFC 9110 section 8.4.1.3: the same coding as gzip
        weights.setdefault("gzip", weights["x-gzip"])
    anything = weights.get("*", 0.0)
    best, best_weight = None, 0.0
    for coding in available:
        if (weight := weights.get(coding, anything)) > best_weight:
            best, best_weight = coding, weight
    return best


class BuiltFiles(StaticFiles):
    """Files of the build in `directory`, which is `prefix` in dist/: each sent as its
    precompressed twin when the client accepts that coding, with its kind of file's lifetime."""

    def __init__(self, *, directory: Path, prefix: str = "", check_dir: bool = True) -> None:
        super().__init__(directory=directory, check_dir=check_dir)
        self.prefix = PurePosixPath(prefix)

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        full_path, stat_result = super().lookup_path(path)
        original, _, suffix = full_path.rpartition(".")
        if f".{suffix}" in TWINS.values() and os.path.isfile(original):
            return "", None  # a twin goes out only as its original, with Content-Encoding
        return full_path, stat_result

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        request_headers = Headers(scope=scope)
        # lookup_path resolved both, and only serves what lies inside the directory.
        relative = Path(full_path).relative_to(os.path.realpath(self.directory or ""))
        headers = {"Cache-Control": cache_control(self.prefix / PurePosixPath(*relative.parts))}
        twins = [coding for coding, suffix in TWINS.items() if os.path.isfile(f"{full_path}{suffix}")]
        sent, sent_stat = full_path, stat_result
        if twins:
            headers["Vary"] = "Accept-Encoding"
            if coding := preferred_coding(request_headers.get("accept-encoding", ""), twins):
                headers["Content-Encoding"] = coding
                sent = f"{full_path}{TWINS[coding]}"
                sent_stat = os.stat(sent)
        response = FileResponse(
            sent,
            status_code=status_code,
            headers=headers,
            media_type=guess_type(full_path)[0] or "text/plain",  # the original's, not the twin's
            stat_result=sent_stat,  # its length, and an ETag of its own for each coding
        )
        if self.is_not_modified(response.headers, request_headers):
            return NotModifiedResponse(response.headers)
        return response

    def response(self, path: str, scope: Scope) -> Response | None:
        """The file at `path` (relative to `directory`), or None when there is none."""
        try:
            full_path, stat_result = self.lookup_path(path)
        except (OSError, ValueError):  # a name too long, a NUL byte: no such file
            return None
        if stat_result is None or not stat.S_ISREG(stat_result.st_mode):
            return None
        return self.file_response(full_path, stat_result, scope)


def add_frontend(app: FastAPI, dist: Path) -> None:
    index = dist / "index.html"
    if not index.is_file():

        @app.get("/", include_in_schema=False)
        async def not_built() -> HTMLResponse:
            return HTMLResponse(NOT_BUILT)

        return

    app.mount(
        "/assets", BuiltFiles(directory=dist / "assets", prefix="assets", check_dir=False), name="assets"
    )
    files = BuiltFiles(directory=dist)

    @app.get("/{path:path}", include_in_schema=False)
    async def frontend(path: str, request: Request) -> Response:
        if path and (response := files.response(path, request.scope)):
            return response  # favicon, robots.txt and other files at the top of dist/
        accept = request.headers.get("accept", "")
        navigation = "text/html" in accept or (not path and "json" not in accept)
        # A fresh index.html on every navigation (no-cache): it names the hashed assets of this build.
        if navigation and (response := files.response("index.html", request.scope)):
            return response
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Not Found")
