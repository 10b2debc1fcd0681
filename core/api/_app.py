"""The app factory: the read-only API over a workstation opened read-only.

:func:`create_app` takes the workstation (any object with its services: ``portfolios``,
``risk``, ``paper``, ``rebalance``, ``audit``, ``market``) and the token; it adds nothing
that writes. All routes are GET; ``/health`` alone is open, the OpenAPI document and the
WebSocket need the token too. CORS is off unless origins are given. The request log names
method, path and status, never a query string (a WebSocket's token is one).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from core.api._auth import RequireToken
from core.api._errors import install_error_handlers
from core.api._live import LiveUpdates
from core.api._models import Health
from core.api._reads import CurveCache
from core.api._routes import build_router

access_log = logging.getLogger("core.api.access")
TITLE = "Quant workstation (read-only)"
DESCRIPTION = (
    "Read-only views of the workstation's portfolios, risk, trades, paper sessions and audit "
    "trail. Every route is GET; every route but /health needs `Authorization: Bearer TOKEN`. "
    "Live updates: `WS /ws/live-updates?session=NAME|portfolio=NAME&after=SEQ&token=TOKEN`."
)


class PathOnlyLog:
    """ASGI middleware: one log line per request, ``METHOD /path STATUS ms``, no query."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        """Pass the request on; log it when its response starts."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = scope.get("method", "WS")

        async def logged(message):
            if message["type"] in ("http.response.start", "websocket.close"):
                status = message.get("status", message.get("code", ""))
                elapsed = (time.perf_counter() - started) * 1000
                access_log.info("%s %s %s %.1f ms", method, scope["path"], status, elapsed)
            await send(message)

        await self.app(scope, receive, logged)


def create_app(
    ws,
    *,
    token: str,
    cors_origins: Sequence[str] = (),
    demo_name: str | None = None,
) -> FastAPI:
    """The FastAPI app serving ``ws`` read-only.

    Parameters
    ----------
    ws : Workstation
        Opened read-only (:meth:`core.workstation.Workstation.open_read_only`).
    token : str
        The bearer token every route but ``/health`` needs.
    cors_origins : sequence of str
        Origins allowed to read cross-origin (none: CORS off).
    demo_name : str, optional
        The portfolio a route serves when none is named (else the first by name).

    Returns
    -------
    FastAPI
        The app (serve it with uvicorn: ``python -m core api``).
    """
    require = Depends(RequireToken(token))
    app = FastAPI(
        title=TITLE,
        description=DESCRIPTION,
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    install_error_handlers(app)
    database = ws.engine.url.get_backend_name()

    @app.get("/health", response_model=Health, tags=["server"])
    def health() -> dict:
        """The server is up (no token needed)."""
        return {
            "status": "ok",
            "read_only": bool(getattr(ws, "read_only", False)),
            "database": database,
        }

    curves = CurveCache(ws.portfolios)  # shared by the routes and the live updates
    app.include_router(build_router(ws, curves, demo_name=demo_name, dependencies=[require]))

    @app.get("/openapi.json", include_in_schema=False, dependencies=[require])
    def openapi() -> dict:
        return app.openapi()

    app.add_api_websocket_route("/ws/live-updates", LiveUpdates(ws, token, curves))
    if cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=["GET"],
            allow_headers=["Authorization"],
        )
    app.add_middleware(PathOnlyLog)
    return app
