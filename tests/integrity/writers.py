"""Writer processes for the concurrency test, started as ``python -m tests.integrity.writers``.

    python -m tests.integrity.writers trades PORTFOLIO N READY GO OUT
    python -m tests.integrity.writers checks PORTFOLIO N READY GO OUT

The database URL comes from ``WORKSTATION_DATABASE_URL``, as a worker's does. Each process
opens its own workstation, touches READY, waits for GO, then loops:

- ``trades``: N round trips on PORTFOLIO through the pre-trade checks (buy 1 AAPL at 100,
  then sell it at 101), each check logged as ``pretrade_check`` and each fill as ``fill``;
- ``checks``: N pre-trade checks of an order (``pretrade_check`` events only).

It writes {"done": …, "retries": …} to OUT; a refusal because a concurrent trade booked a
later timestamp first ("before the portfolio's latest event") is retried and counted.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from core.portfolio import PortfolioError
from core.risk import check_manual_order, checked_trade
from core.workstation import Workstation

BUY_PRICE, SELL_PRICE = 100.0, 101.0


def _trade(ws, portfolio: str, side: str, price: float) -> int:
    """Book one checked trade; the number of back-dated refusals retried on the way."""
    for attempt in range(50):
        try:
            checked_trade(ws, portfolio, "AAPL", side, 1, price)
            return attempt
        except PortfolioError as exc:
            if "latest event" not in str(exc):
                raise
    raise RuntimeError("50 back-dated refusals in a row")


def main(argv: list[str]) -> int:
    kind, portfolio, n, ready, go, out = argv
    ws = Workstation.open(seed_demo=False)
    Path(ready).touch()
    deadline = time.monotonic() + 120
    while not Path(go).exists():
        if time.monotonic() > deadline:
            raise SystemExit("never told to go")
        time.sleep(0.01)
    retries = 0
    for _ in range(int(n)):
        if kind == "trades":
            retries += _trade(ws, portfolio, "buy", BUY_PRICE)
            retries += _trade(ws, portfolio, "sell", SELL_PRICE)
        else:
            check_manual_order(ws, portfolio, "AAPL", "buy", 1, BUY_PRICE)
    ws.close()
    Path(out).write_text(json.dumps({"done": int(n), "retries": retries}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
