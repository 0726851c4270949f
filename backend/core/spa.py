"""The React app, served by FastAPI from `frontend/dist` (built by `make run`).

Client-side routes fall back to index.html for browser navigations (Accept: text/html), and `/`
answers the page to any client that does not ask for JSON (`curl http://127.0.0.1:8000/`). API
routes, /docs and /openapi.json are matched first and keep working; an unknown path asked for
by a script still gets a JSON 404.
"""

from pathlib import Path

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

NOT_BUILT = """<!doctype html><html lang="en"><meta charset="utf-8"><title>FARM Auth</title>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 3rem auto">
<h1>FARM Auth</h1><p>The frontend is not built yet: <code>make run</code> builds it
(or <code>cd frontend &amp;&amp; npm ci &amp;&amp; npm run build</code>).</p>
<p>The API is up: <a href="/docs">/docs</a>.</p></body></html>"""


def add_frontend(app: FastAPI, dist: Path) -> None:
    index = dist / "index.html"
    if not index.is_file():

        @app.get("/", include_in_schema=False)
        async def not_built() -> HTMLResponse:
            return HTMLResponse(NOT_BUILT)

        return

    app.mount("/assets", StaticFiles(directory=dist / "assets", check_dir=False), name="assets")
    root = dist.resolve()

    @app.get("/{path:path}", include_in_schema=False)
    async def frontend(path: str, request: Request) -> FileResponse:
        candidate = (root / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(root):
            return FileResponse(candidate)  # favicon and other files at the top of dist/
        accept = request.headers.get("accept", "")
        if "text/html" in accept or (not path and "json" not in accept):
            # A fresh index.html on every navigation: it names the hashed assets of this build.
            return FileResponse(index, headers={"Cache-Control": "no-cache"})
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Not Found")
