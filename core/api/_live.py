"""``WS /ws/live-updates``: fills, equity marks, alerts and regime changes as they commit.

``?session=NAME`` follows a paper session, ``?portfolio=NAME`` a portfolio; ``?after=SEQ``
resumes after the last update a client saw. The token comes as ``?token=`` or, without it,
as the first message (the bare token or ``{"token": "..."}``) within 5 seconds.

Every update is a JSON object with ``seq`` (only growing, one per update), ``type``
(``fill``, ``equity``, ``alert``, ``regime``) and ``ts``; control messages (``hello``,
``heartbeat``, ``error``) carry no ``seq``. The server polls the database every 200 ms on
indexed keys and sends what committed since, in commit order:

* a session's updates are numbered by the worker's event (see
  :func:`core.paper.PaperService.updates`);
* a portfolio's are its audit events (fills, cash movements, limit breaches, pre-trade
  warnings and blocks; every money-moving transaction writes one under the write lock, so
  their ids are in commit order): ``seq = 2 × audit id``, and ``2 × audit id + 1`` for the
  equity mark after a fill or a cash movement (the portfolio's snapshot at that time).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

import pandas as pd
from fastapi import WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from core.api._auth import token_matches
from core.api._reads import finite
from core.audit import is_breach
from core.errors import InvalidInputError, NotFoundError, WorkstationError

POLL_SECONDS = 0.2
HEARTBEAT_SECONDS = 15.0
AUTH_SECONDS = 5.0
PORTFOLIO_KINDS = ("fill", "deposit", "withdrawal", "limit_breach", "pretrade_check")
CLOSE_POLICY = 1008  # RFC 6455: policy violation (a missing or wrong token)
CLOSE_BAD_REQUEST = 4400  # application codes: 4000 + the HTTP status
CLOSE_NOT_FOUND = 4404


def portfolio_updates(ws, curves, name: str, after: int) -> list[dict[str, Any]]:
    """The portfolio's updates with ``seq`` above ``after`` (at most 500 audit events).

    A fill's time is its own (a paper fill's event records it; a ticket's is looked up in
    the trades), and its equity mark is the snapshot its transaction wrote at that time.
    """
    events = ws.audit.events(
        portfolio=name,
        kind=list(PORTFOLIO_KINDS),
        after_id=after // 2 - 1,  # the event of an equity mark (2 × id + 1) again
        newest_first=False,
        limit=500,
    )
    if events.empty:
        return []
    times = _fill_times(ws, name, events)
    curve = None
    updates = []
    for e in events.itertuples():
        payload = e.payload or {}
        if e.kind in ("pretrade_check", "limit_breach"):
            if is_breach(e.kind, payload):
                updates.append(_alert(e, payload))
            continue
        if e.kind == "fill":
            ts = times.get(payload.get("fill_id"), e.ts)
            updates.append({"seq": 2 * e.id, "type": "fill", "ts": _iso(ts), **_fill(payload)})
        else:
            ts = e.ts
            amount = payload.get("amount")
            updates.append({"seq": 2 * e.id, "type": "cash", "ts": _iso(ts), "amount": amount})
        curve = curves.get(name).snapshots if curve is None else curve
        mark = _mark(curve, ts)
        if mark is not None:
            updates.append({"seq": 2 * e.id + 1, "type": "equity", **mark})
    return [finite(u) for u in updates if u["seq"] > after]


def _iso(ts) -> str:
    return pd.Timestamp(ts).isoformat()


def _fill(payload: dict) -> dict[str, Any]:
    fill = {k: payload.get(k) for k in ("fill_id", "symbol", "side", "quantity", "price")}
    return fill | {
        "commission": payload.get("commission", 0.0),
        "strategy": payload.get("strategy"),
    }


def _fill_times(ws, name: str, events: pd.DataFrame) -> dict[str, Any]:
    """Fill id → the fill's time: from the event when it says (paper), else from the trades."""
    fills = [p for k, p in zip(events["kind"], events["payload"], strict=True) if k == "fill"]
    times = {p.get("fill_id"): pd.Timestamp(p["ts"]) for p in fills if p.get("ts")}
    if any(p.get("fill_id") not in times for p in fills):
        trades = ws.portfolios.trades(name)
        times |= dict(zip(trades["fill_id"], trades["ts"], strict=True)) | times
    return times


def _alert(e, payload: dict) -> dict[str, Any]:
    failed = [r for r in payload.get("results", []) if r.get("outcome") != "pass"]
    return {
        "seq": 2 * e.id,
        "type": "alert",
        "ts": e.ts.isoformat(),
        "level": payload.get("level") or payload.get("outcome", "warn"),
        "rule": payload.get("rule") or ", ".join(r.get("rule", "?") for r in failed),
        "message": payload.get("message") or "; ".join(r.get("message", "") for r in failed),
    }


def _mark(curve: pd.DataFrame, ts) -> dict[str, Any] | None:
    """The last equity snapshot at or before ``ts``."""
    upto = curve.loc[: pd.Timestamp(ts)]
    if upto.empty:
        return None
    row = upto.iloc[-1]
    return {
        "ts": upto.index[-1].isoformat(),
        "equity": float(row["equity"]),
        "cash": float(row["cash"]),
        "positions_value": float(row["positions_value"]),
    }


class LiveUpdates:
    """The WebSocket endpoint over the read-only workstation ``ws``."""

    def __init__(self, ws, token: str, curves, *, poll: float = POLL_SECONDS):
        self._ws, self._token, self._curves, self._poll = ws, token, curves, poll

    async def __call__(self, websocket: WebSocket) -> None:
        """Authenticate, check the stream asked for, then send updates until the client goes."""
        params = websocket.query_params
        given = params.get("token")
        if given is not None and not token_matches(given, self._token):
            await websocket.close(code=CLOSE_POLICY, reason="invalid token")
            return
        await websocket.accept()
        if given is None and not await self._first_message_token(websocket):
            return
        try:
            reader, stream, after = await run_in_threadpool(self._reader, params)
        except WorkstationError as exc:
            code = CLOSE_NOT_FOUND if isinstance(exc, NotFoundError) else CLOSE_BAD_REQUEST
            await _refuse(websocket, code, str(exc), exc.where or exc.field)
            return
        await websocket.send_json({"type": "hello", **stream, "after": after})
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await self._pump(websocket, reader, after)

    async def _first_message_token(self, websocket: WebSocket) -> bool:
        try:
            text = await asyncio.wait_for(websocket.receive_text(), AUTH_SECONDS)
        except (TimeoutError, WebSocketDisconnect, KeyError, RuntimeError):
            await _refuse(websocket, CLOSE_POLICY, "missing token", "token")
            return False
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            text = json.loads(text).get("token", "")
        if not isinstance(text, str) or not token_matches(text.strip(), self._token):
            await _refuse(websocket, CLOSE_POLICY, "invalid token", "token")
            return False
        return True

    def _reader(self, params) -> tuple[Callable[[int], list], dict, int]:
        """The stream's reader, its description and the cursor, or a refusal."""
        portfolio, session = params.get("portfolio"), params.get("session")
        if (portfolio is None) == (session is None):
            raise InvalidInputError("give exactly one of portfolio= and session=", where="query")
        after_text = params.get("after", "0")
        if not after_text.isdigit() or len(after_text) > 18:
            raise InvalidInputError("after must be a whole number ≥ 0", where="after")
        after = int(after_text)
        if session is not None:
            if not self._ws.paper.exists(session):
                raise NotFoundError(f"no paper session named {session!r}", where="session")
            return (lambda a: self._ws.paper.updates(session, after=a)), {"session": session}, after
        self._ws.portfolios.summary(portfolio)  # 404 for an unknown one
        return (
            (lambda a: portfolio_updates(self._ws, self._curves, portfolio, a)),
            {"portfolio": portfolio},
            after,
        )

    async def _pump(self, websocket: WebSocket, reader, after: int) -> None:
        gone = asyncio.ensure_future(_until_closed(websocket))
        idle = 0.0
        try:
            while not gone.done():
                updates = await run_in_threadpool(reader, after)
                for update in updates:
                    await websocket.send_json(update)
                    after = update["seq"]
                idle = 0.0 if updates else idle + self._poll
                if idle >= HEARTBEAT_SECONDS:
                    await websocket.send_json({"type": "heartbeat", "after": after})
                    idle = 0.0
                await asyncio.wait({gone}, timeout=self._poll)
        finally:
            gone.cancel()


async def _until_closed(websocket: WebSocket) -> None:
    """Read (and drop) what the client sends, until it disconnects."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return


async def _refuse(websocket: WebSocket, code: int, message: str, where: str | None) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await websocket.send_json({"type": "error", "error": {"message": message, "where": where}})
        await websocket.close(code=code, reason=message[:120])
