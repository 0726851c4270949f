"""/docs: Swagger UI served from this app, with the CSRF header added for cookie sessions.

The Swagger UI files come from the fastapi-offline package, so the page works without a CDN
and under a Content-Security-Policy of 'self'.
"""

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_ASSETS = Path(str(files("fastapi_offline") / "static"))
INIT_SCRIPT = Path(__file__).parent / "static"

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} - Swagger UI</title>
  <link rel="icon" href="docs-assets/favicon.png">
  <link rel="stylesheet" href="docs-assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs-assets/swagger-ui-bundle.js"></script>
  <script src="docs-static/swagger-init.js"></script>
</body>
</html>
"""


def add_docs(app: FastAPI) -> None:
    app.mount("/docs-assets", StaticFiles(directory=SWAGGER_ASSETS), name="docs-assets")
    app.mount("/docs-static", StaticFiles(directory=INIT_SCRIPT), name="docs-static")
    page = PAGE.format(title=app.title)

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
