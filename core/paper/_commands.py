"""Commands a session's worker applies: pause, resume, stop, manual orders, cancels,
parameter changes (also re-applied at their event when a session is re-run)."""

from __future__ import annotations

import math

from core.execution import OrderIntent, OrderSource, OrderStatus, OrderType, TimeInForce
from core.paper._sleeve import Sleeve
from core.portfolio import Side


class CommandsMixin:
    """Part of :class:`~core.paper._worker.PaperWorker`."""

    # -- commands --------------------------------------------------------------------------
    def _commands(self) -> None:
        for command_id, kind, payload in self.writer.pending_commands():
            status, message = self._apply(command_id, kind, payload)
            self.pending.commands.append((command_id, status, message, self.next_seq))
            self._log(f"command {kind} {payload}: {status} {message}")
        if self.pending.commands:
            self._commit()
        limits, state = self._read_limits()
        if (limits, state) != (self.limits, self.trading_state):
            self.limits, self.trading_state = limits, state
            self.gate.set_limits(limits, state)
            self._alert("info", "trading_state", f"trading state {state}; limits reloaded")

    def _settle(self, final: str) -> None:
        """The run ends: whatever is still pending gets an answer. Stopped: the commands
        queued meanwhile are applied now (a resume re-applies them at this event).
        Finished: no event is left, so open orders expire with that reason (commands still
        queued are expired with the final status, :meth:`SessionWriter.set_status`)."""
        if final != "finished":
            self._commands()
            return
        for sleeve in self.sleeves:
            sleeve.engine.expire_open_orders("the session finished: no event was left to fill it")
            self._track_orders(sleeve)

    def _apply(self, command_id: int, kind: str, payload: dict) -> tuple[str, str]:
        """Apply one command before event ``self.next_seq`` (also when re-running after a crash)."""
        try:
            if kind == "pause":
                self.paused = True
                if self.live:
                    self.writer.set_status("paused", audit={"command": command_id})
                return "applied", "paused"
            if kind == "resume":
                self.paused = False
                if self.live:
                    self.writer.set_status("running", audit={"command": command_id})
                return "applied", "resumed"
            if kind == "stop":
                if self.live:
                    self.stop_requested = True
                return "applied", "stopping"
            if kind == "order":
                return self._manual_order(payload)
            if kind == "cancel":
                sleeve = self._sleeve(payload.get("strategy"))
                if sleeve.engine.cancel(int(payload["order_id"]), "cancelled by user"):
                    self._track_orders(sleeve) if self.live else None
                    self.pending.audit.append(
                        ("order_cancelled", {"session": self.session_id, **payload})
                    )
                    return "applied", f"order {payload['order_id']} cancelled"
                return "rejected", f"order {payload['order_id']} is not open"
            if kind == "params":
                return self._change_params(payload)
            return "rejected", f"unknown command {kind!r}"
        except (KeyError, ValueError, TypeError) as exc:
            return "rejected", str(exc).strip("'\"")

    def _sleeve(self, key: str | None) -> Sleeve:
        if key is None:
            return self.sleeves[0]
        if key not in self.by_key:
            raise KeyError(f"no strategy {key!r} in this session; have {sorted(self.by_key)}")
        return self.by_key[key]

    def _manual_order(self, payload: dict) -> tuple[str, str]:
        sleeve = self._sleeve(payload.get("strategy"))
        symbol = str(payload.get("symbol") or self.symbols[0]).upper()
        if symbol not in self.feed.instruments:
            raise ValueError(f"symbol {symbol!r} is not traded in this session")
        quantity = float(payload["quantity"])
        if not (quantity > 0 and math.isfinite(quantity)):
            raise ValueError(f"quantity must be a positive number, got {payload['quantity']!r}")
        intent = OrderIntent(
            symbol,
            Side(str(payload["side"]).lower()),
            quantity,
            type=OrderType(payload.get("type", "market")),
            limit_price=_opt_float(payload.get("limit_price")),
            stop_price=_opt_float(payload.get("stop_price")),
            tif=TimeInForce(payload.get("tif", "gtc")),
            tag="manual",
            strategy=sleeve.key,
            source=OrderSource.MANUAL,
        )
        # placed before the next event: fills at its open
        order = sleeve.engine.submit(intent, before=self.next_seq)
        if self.live:
            self._track_orders(sleeve)
            self.pending.audit.append(
                (
                    "manual_order",
                    {
                        "session": self.session_id,
                        "strategy": sleeve.key,
                        "order": order.id,
                        **payload,
                    },
                )
            )
        if order.status is OrderStatus.REJECTED:
            return "rejected", order.reason
        return "applied", f"order {order.id} accepted ({sleeve.key})"

    def _change_params(self, payload: dict) -> tuple[str, str]:
        sleeve = self._sleeve(payload.get("strategy"))
        engine = sleeve.engine
        cls = type(engine.strategy)
        params = cls.Params.model_validate(
            {**engine.strategy.params.model_dump(), **payload.get("params", {})}
        )
        engine.replace_strategy(cls(params))  # warmed up on the bars so far, no orders
        if self.live:
            self.pending.audit.append(
                (
                    "params_changed",
                    {
                        "session": self.session_id,
                        "strategy": sleeve.key,
                        "params": params.model_dump(mode="json"),
                    },
                )
            )
        return "applied", f"{sleeve.key} parameters now {params.model_dump(mode='json')}"


def _opt_float(value) -> float | None:
    return None if value in (None, "") else float(value)
