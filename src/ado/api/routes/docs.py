"""``/api/docs``: Swagger UI over ``/api/openapi.json``, with no request leaving the machine.

FastAPI's own page loads Swagger UI from a CDN; this one loads the copy that
``scripts/build_dashboard`` puts in the built dashboard (``dist/swagger-ui/``, from the npm
package ``swagger-ui-dist``), served at ``/swagger-ui/`` like the dashboard's other files.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse

__all__ = ["SWAGGER_UI", "router"]

#: Where the built dashboard serves Swagger UI's files.
SWAGGER_UI = "/swagger-ui"

router = APIRouter()


@router.get("/api/docs", include_in_schema=False)
def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/api/openapi.json",
        title="ADO API",
        swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER_UI}/favicon-32x32.png",
    )
