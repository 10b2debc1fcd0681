"""``options``, ``fx`` and ``futures``: derivatives calculators from a terminal.

Option prices, Greeks, implied vols and strategies; forex pip values and position sizes;
futures contract terms, P&L and margin.

Units: expiry in years, rate/dividend/vol as fractions per year (0.05 = 5 %); theta per year,
per calendar day (/365) and per trading day (/252); vega and rho per 1.00 and per 1 %.
"""

from __future__ import annotations

from core.cli._output import CommandError, emit

STRATEGY_KINDS = ("vertical", "straddle", "strangle", "iron-condor", "butterfly", "calendar")


def _option_args(parser, *, vol: bool) -> None:
    parser.add_argument("--type", required=True, choices=("call", "put"), dest="right")
    parser.add_argument("--spot", type=float, required=True, help="underlying (or forward) price")
    parser.add_argument("--strike", type=float, required=True)
    parser.add_argument("--expiry", type=float, required=True, help="years to expiry")
    parser.add_argument("--rate", type=float, required=True, help="per year, 0.05 = 5 %%")
    if vol:
        parser.add_argument("--vol", type=float, required=True, help="per √year, 0.2 = 20 %%")
    parser.add_argument("--dividend", type=float, default=0.0, help="yield per year (0)")
    parser.add_argument(
        "--model", choices=("bsm", "black76"), default="bsm", help="black76: --spot is F"
    )


def register(commands, shared) -> None:
    _register_options(commands, shared)
    _register_fx(commands, shared)
    _register_futures(commands, shared)


def _register_options(commands, shared) -> None:
    parser = commands.add_parser(
        "options",
        help="European option prices, Greeks, implied volatility and multi-leg strategies",
        description="Black-Scholes-Merton (or Black-76 with --model black76). Expiry in years, "
        "rates and volatility as fractions per year. Greeks: theta per year, per calendar "
        "day (/365) and per trading day (/252); vega and rho per 1.00 and per 1 %%.",
        parents=[shared],
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    price = sub.add_parser("price", help="price and Greeks", parents=[shared])
    _option_args(price, vol=True)
    price.set_defaults(handler=options_price)
    iv = sub.add_parser("iv", help="implied volatility of a price", parents=[shared])
    _option_args(iv, vol=False)
    iv.add_argument("--price", type=float, required=True, help="option price")
    iv.set_defaults(handler=options_iv)
    strat = sub.add_parser(
        "strategy", help="a multi-leg strategy's payoff summary", parents=[shared]
    )
    strat.add_argument("--kind", required=True, choices=STRATEGY_KINDS)
    strat.add_argument("--strikes", required=True, help="comma-separated, ascending")
    strat.add_argument("--expiry", type=float, required=True, help="years (calendar: near)")
    strat.add_argument("--far-expiry", type=float, help="calendar: the far expiry in years")
    strat.add_argument("--right", choices=("call", "put"), default="call")
    strat.add_argument("--short", action="store_true", help="the reverse position")
    strat.add_argument("--quantity", type=float, default=1.0)
    strat.add_argument("--multiplier", type=float, default=100.0)
    strat.add_argument("--spot", type=float, required=True)
    strat.add_argument("--vol", type=float, required=True)
    strat.add_argument("--rate", type=float, default=0.0)
    strat.add_argument("--dividend", type=float, default=0.0)
    strat.set_defaults(handler=options_strategy)


def _register_fx(commands, shared) -> None:
    parser = commands.add_parser(
        "fx",
        help="forex pip value and position size from risk",
        description="Pip size 0.0001 (0.01 for JPY quotes). --conversion is account-currency "
        "units per unit of the quote currency (1 when they are the same); for an account in "
        "the base currency, --price gives it as 1/price.",
        parents=[shared],
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    pip = sub.add_parser("pip", help="pip size and pip value", parents=[shared])
    pip.add_argument("--units", type=float, required=True, help="base-currency units")
    size = sub.add_parser("size", help="units to trade for a risk %% and stop", parents=[shared])
    size.add_argument("--equity", type=float, required=True, help="in the account currency")
    size.add_argument("--risk-pct", type=float, required=True, help="percent of equity (1 = 1 %%)")
    size.add_argument("--stop-pips", type=float, required=True)
    size.add_argument("--lot-step", type=float, default=0.01, help="lots round down (0.01)")
    for p in (pip, size):
        p.add_argument("--pair", required=True, help="e.g. EUR/USD")
        p.add_argument("--account", default="USD", help="account currency (USD)")
        p.add_argument("--conversion", type=float, help="account units per quote unit")
        p.add_argument("--price", type=float, help="the pair's price")
    pip.set_defaults(handler=fx_pip)
    size.set_defaults(handler=fx_size)


def _register_futures(commands, shared) -> None:
    parser = commands.add_parser(
        "futures",
        help="futures contract terms, P&L and margin",
        description="P&L = price change × multiplier × contracts (+ long, - short). Margins "
        "are per contract and set by the exchange and broker: give them.",
        parents=[shared],
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    specs = sub.add_parser("specs", help="the contract terms table", parents=[shared])
    specs.set_defaults(handler=futures_specs)
    calc = sub.add_parser("calc", help="tick value, P&L and margin", parents=[shared])
    calc.add_argument("--symbol", required=True, help="root symbol, e.g. ES")
    calc.add_argument("--contracts", type=float, required=True, help="+ long, - short")
    calc.add_argument("--entry", type=float, required=True)
    calc.add_argument("--price", type=float, required=True, help="current or exit price")
    calc.add_argument("--deposit", type=float, help="cash posted (with the margins)")
    calc.add_argument("--initial", type=float, help="initial margin per contract")
    calc.add_argument("--maintenance", type=float, help="maintenance margin per contract")
    calc.set_defaults(handler=futures_calc)


def options_price(args) -> None:
    from core.derivatives import black76, bsm

    if args.model == "black76":
        g = black76(args.right, args.spot, args.strike, args.expiry, args.rate, args.vol)
    else:
        g = bsm(args.right, args.spot, args.strike, args.expiry, args.rate, args.vol, args.dividend)
    emit(args, g.as_dict())


def options_iv(args) -> None:
    from core.derivatives import implied_vol

    result = implied_vol(
        args.right,
        args.price,
        args.spot,
        args.strike,
        args.expiry,
        args.rate,
        args.dividend,
        black76=args.model == "black76",
    )
    payload = {"iv": result.iv}
    if result.reason:
        payload["reason"] = result.reason
    emit(args, payload)


def _strikes(text: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise CommandError(f"--strikes: not numbers ({text!r})") from exc


def _build_strategy(args):
    from core import derivatives as d

    market = d.OptionMarket(spot=args.spot, vol=args.vol, rate=args.rate, dividend=args.dividend)
    k = _strikes(args.strikes)
    common = {"quantity": args.quantity, "multiplier": args.multiplier}
    need = {"vertical": 2, "strangle": 2, "iron-condor": 4, "butterfly": 3}.get(args.kind, 1)
    if len(k) != need:
        raise CommandError(f"--strikes: a {args.kind} takes {need} strike(s), got {len(k)}")
    long = not args.short
    if args.kind == "vertical":
        return market, d.vertical(market, args.right, *k, args.expiry, bull=long, **common)
    if args.kind == "straddle":
        return market, d.straddle(market, k[0], args.expiry, long=long, **common)
    if args.kind == "strangle":
        return market, d.strangle(market, *k, args.expiry, long=long, **common)
    if args.kind == "iron-condor":
        return market, d.iron_condor(market, tuple(k), args.expiry, short=long, **common)
    if args.kind == "butterfly":
        return market, d.butterfly(market, tuple(k), args.expiry, args.right, long=long, **common)
    if args.far_expiry is None:
        raise CommandError("--far-expiry: a calendar needs the far expiry")
    return market, d.calendar(
        market, k[0], args.expiry, args.far_expiry, args.right, long=long, **common
    )


def options_strategy(args) -> None:
    from core.derivatives import analyze

    market, strategy = _build_strategy(args)
    payload = {"name": strategy.name, "multiplier": strategy.multiplier}
    payload["legs"] = [leg.model_dump() for leg in strategy.legs]
    payload |= analyze(strategy, market).as_dict()
    emit(args, payload)


def fx_pip(args) -> None:
    from core.derivatives import pip_value

    v = pip_value(args.pair, args.units, args.account, args.conversion, args.price)
    emit(args, v.as_dict())


def fx_size(args) -> None:
    from core.derivatives import position_size

    size = position_size(
        args.pair,
        args.equity,
        args.risk_pct,
        args.stop_pips,
        args.account,
        args.conversion,
        args.price,
        args.lot_step,
    )
    emit(args, {"pair": args.pair.upper(), "account": args.account.upper()} | size.as_dict())


def futures_specs(args) -> None:
    from core.derivatives import CONTRACTS

    rows = [spec.model_dump() | {"tick_value": spec.tick_value} for spec in CONTRACTS.values()]
    text = "\n".join(
        f"{r['symbol']:<4} {r['name']:<26} multiplier {r['multiplier']:>9,g}  "
        f"tick {r['tick_size']:<8g} = {r['tick_value']:,.4g} {r['currency']}"
        for r in rows
    )
    emit(args, {"contracts": rows}, text)


def futures_calc(args) -> None:
    from core.derivatives import futures_pnl, futures_spec, margin_status

    spec = futures_spec(args.symbol)
    payload = spec.model_dump() | {"tick_value": spec.tick_value}
    payload["pnl"] = futures_pnl(spec, args.entry, args.price, args.contracts)
    payload["ticks"] = (args.price - args.entry) / spec.tick_size
    margins = (args.deposit, args.initial, args.maintenance)
    if any(m is not None for m in margins):
        if any(m is None for m in margins):
            raise CommandError("--deposit, --initial and --maintenance go together")
        status = margin_status(spec, args.contracts, args.entry, args.price, *margins)
        payload |= status.as_dict()
    emit(args, payload)
