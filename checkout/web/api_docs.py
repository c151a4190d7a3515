"""Browsable API documentation at `/api/docs`: Swagger UI over `/api/openapi.json`.

Swagger UI's files (version 5, which reads OpenAPI 3.1) come from the `swagger-ui-py` package
(only its static folder is used) and are served by the edge itself
(`/api/docs/assets/`), and the page starts it from a script file of ours, not an inline script:
no CDN, and the site's CSP (`script-src 'self'; style-src 'self'`) stays as strict as on every
other page.
"""

from __future__ import annotations

from pathlib import Path

import swagger_ui
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

ASSETS = Path(swagger_ui.__file__).resolve().parent / "static"

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>DigitalDock API</title>
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/api/docs/assets/favicon-32x32.png">
</head>
<body>
<noscript><p>The API reference needs JavaScript; the document itself is at
<a href="/api/openapi.json">/api/openapi.json</a>.</p></noscript>
<div id="swagger-ui"></div>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script>
</body>
</html>
"""

INIT = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false,
    tryItOutEnabled: false,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
});
"""


async def docs_page(request: Request) -> Response:
    return HTMLResponse(PAGE, headers={"Cache-Control": "no-cache"})


async def docs_init(request: Request) -> Response:
    return Response(INIT, media_type="text/javascript", headers={"Cache-Control": "no-cache"})


ROUTES = [
    Route("/api/docs", docs_page),
    Route("/api/docs/init.js", docs_init),
    Mount("/api/docs/assets", app=StaticFiles(directory=str(ASSETS)), name="api-docs-assets"),
]
