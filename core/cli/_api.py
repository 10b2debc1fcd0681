"""``api``: serve the read-only REST and WebSocket API with uvicorn.

The database is opened read-only (no migration, no demo seeding: a database whose schema
is not current is refused). The token is ``WORKSTATION_API_TOKEN`` or the one in
``data/api-token`` (generated on first start, mode 0600); it is never printed or logged,
and the request log names paths without their query strings.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from core.cli._output import CommandError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8601


def register(commands, shared) -> None:
    parser = commands.add_parser(
        "api",
        help="serve the read-only REST and WebSocket API (uvicorn)",
        description="Serve portfolio, risk, trades, paper sessions and the audit trail "
        "read-only over HTTP and a WebSocket of live updates. Binds 127.0.0.1 by default; "
        "every route but /health needs `Authorization: Bearer TOKEN` (the token: "
        "$WORKSTATION_API_TOKEN, else data/api-token).",
        parents=[shared],
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address (default {DEFAULT_HOST})")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    parser.add_argument(
        "--status-file",
        type=Path,
        default=None,
        help="where to say the server runs (default data/api-status.json; the Home page reads it)",
    )
    parser.set_defaults(handler=serve_api)


def serve_api(args) -> int:
    """Open the database read-only and serve until interrupted."""
    import uvicorn

    from core.api import (
        TOKEN_FILE,
        clear_status,
        create_app,
        install_redaction,
        load_token,
        write_status,
    )
    from core.config import Settings
    from core.demo import DEMO_NAME
    from core.workstation import Workstation

    if not 0 < args.port < 65536:
        raise CommandError(f"--port: must be between 1 and 65535, got {args.port}")
    settings = Settings(**({"database_url": args.db} if args.db else {}))
    secret = settings.api_token.get_secret_value() if settings.api_token else None
    token = load_token(secret)
    ws = Workstation.open_read_only(settings)
    app = create_app(ws, token=token, cors_origins=settings.api_cors_origins, demo_name=DEMO_NAME)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    where = "from WORKSTATION_API_TOKEN" if secret else f"in {TOKEN_FILE}"
    print(
        f"read-only API on http://{args.host}:{args.port} (token {where})",
        file=sys.stderr,
        flush=True,
    )
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        access_log=False,  # it would print query strings (a WebSocket's token); ours does not
        log_level=args.log_level,
        ws_max_size=64 * 1024,
    )
    install_redaction(token)  # after the config: it sets uvicorn's loggers up
    server = uvicorn.Server(config)
    status_file = args.status_file
    write_status(args.host, args.port, status_file)
    try:
        server.run()
    finally:
        clear_status(status_file)
        ws.close()
    return 0
