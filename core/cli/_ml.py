"""``ml``: walk-forward XGBoost stock selection: train, list, show, predict."""

from __future__ import annotations

from core.cli._output import emit, open_workstation

LONG = ("series", "curves")


def register(commands, shared) -> None:
    parser = commands.add_parser(
        "ml",
        help="ML lab: XGBoost cross-sectional stock selection, walk-forward, honest ICs",
        description="Train one XGBoost booster per walk-forward fold (purge gap h+1) on "
        "Alpha158-style features of a universe, report IC / Rank IC of the test folds only "
        "(Newey-West t-statistics), quantile returns, the top-N portfolio with costs against "
        "equal weight and the index, feature importance and the leak canaries; models go to "
        "the registry.",
        parents=[shared],
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    train = actions.add_parser(
        "train", help="train and evaluate a walk-forward model", parents=[shared]
    )
    source = train.add_mutually_exclusive_group()
    source.add_argument("--universe", choices=["bundled"], help="the 20 bundled stocks (default)")
    source.add_argument("--symbols", help="comma-separated symbols (bundled or imported)")
    source.add_argument("--data", metavar="FILE", help="wide CSV of closes, or long OHLCV + symbol")
    train.add_argument("--start", help="first date (YYYY-MM-DD)")
    train.add_argument("--end", help="last date used (nothing after it is read)")
    train.add_argument("--horizon", type=int, default=5, help="label horizon h (default 5)")
    train.add_argument("--train", type=int, default=756, help="training bars per fold (756)")
    train.add_argument("--test", type=int, default=63, help="test bars per fold (63)")
    train.add_argument("--step", type=int, help="bars between retrains (default: --test)")
    train.add_argument("--window", choices=["rolling", "expanding"], default="rolling")
    train.add_argument("--top", type=int, default=5, help="stocks held by the top-N portfolio")
    train.add_argument("--cost-bps", type=float, default=10.0, help="cost per unit turnover")
    train.add_argument("--trees", type=int, help="boosting rounds (default 60)")
    train.add_argument("--objective", choices=["reg:squarederror", "rank:pairwise"])
    train.add_argument("--tune-trials", type=int, default=0, help="Optuna trials per fold (0)")
    train.add_argument("--workers", type=int, default=1, help="fold processes (default 1)")
    train.add_argument("--scheduler", help="Dask scheduler address (tcp://host:8786) for folds")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--name", default="", help="name in the registry")
    train.add_argument("--no-canaries", action="store_true", help="skip the leak canaries")
    train.add_argument("--series", action="store_true", help="include daily ICs and curves")
    train.set_defaults(handler=ml_train)
    listing = actions.add_parser("list", help="saved walk-forward models", parents=[shared])
    listing.set_defaults(handler=ml_list)
    show = actions.add_parser("show", help="a model's card", parents=[shared])
    show.add_argument("model_id")
    show.set_defaults(handler=ml_show)
    predict = actions.add_parser("predict", help="scores per symbol on a date", parents=[shared])
    predict.add_argument("model_id")
    predict.add_argument("--as-of", required=True, help="date (data up to it only)")
    predict.add_argument("--symbols", help="comma-separated (default: the model's universe)")
    predict.set_defaults(handler=ml_predict)


def request_of(args) -> dict:
    """The :class:`~core.ml.MLTrainRequest` fields the options give."""
    request = {
        "horizon": args.horizon,
        "train": args.train,
        "test": args.test,
        "step": args.step,
        "window": args.window,
        "top": args.top,
        "cost_bps": args.cost_bps,
        "tune_trials": args.tune_trials,
        "workers": args.workers,
        "scheduler": args.scheduler,
        "seed": args.seed,
        "name": args.name,
        "canaries": not args.no_canaries,
        "start": args.start,
        "end": args.end,
    }
    if args.symbols:
        request["symbols"] = args.symbols
    if args.data:
        request["data_file"] = args.data
    model = {}
    if args.trees:
        model["n_estimators"] = args.trees
    if args.objective:
        model["objective"] = args.objective
    if model:
        request["model"] = model
    return request


def ml_train(args) -> None:
    ws = open_workstation(args)
    try:
        report = ws.ml.train(ws.ml.validate(request_of(args)))
    finally:
        ws.close()
    if not args.series:
        report = {k: v for k, v in report.items() if k not in LONG}
    emit(args, report, _train_text(report))


def ml_list(args) -> None:
    ws = open_workstation(args)
    try:
        models = ws.ml.list()
    finally:
        ws.close()
    lines = [
        f"{m['model_id']}  {m['name']}  folds {m['folds']}  Rank IC {_num(m['rank_ic'], '.4f')} "
        f"(t {_num(m['rank_ic_tstat'], '.2f')})"
        for m in models
    ]
    emit(args, {"models": models}, "\n".join(lines) or "no models")


def ml_show(args) -> None:
    ws = open_workstation(args)
    try:
        card = ws.ml.show(args.model_id)
    finally:
        ws.close()
    m = card["metrics"]
    text = (
        f"{card['model_id']}  {card['name']}  ({card['kind']}, {card['format']}, "
        f"sha256 {card['sha256'][:12]}…)\nuniverse: {', '.join(card['universe'])}\n"
        f"data span: {' to '.join(card['spec'].get('data_span', []))}; "
        f"folds: {len(card['folds'])}\n"
        f"Rank IC {_num(m.get('rank_ic'), '.4f')}, t {_num(m.get('rank_ic_tstat'), '.2f')}"
    )
    emit(args, card, text)


def ml_predict(args) -> None:
    ws = open_workstation(args)
    try:
        symbols = args.symbols.split(",") if args.symbols else None
        scores = ws.ml.predict(args.model_id, args.as_of, symbols)
    finally:
        ws.close()
    payload = {
        "model_id": args.model_id,
        "as_of": str(scores.name),
        "scores": {s: float(v) for s, v in scores.items()},
    }
    text = "\n".join(f"{s:<8} {v: .5f}" for s, v in payload["scores"].items())
    emit(args, payload, f"scores on {payload['as_of']} (highest first)\n{text}")


def _num(value, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _train_text(r: dict) -> str:
    top, bench, index = r["top_n"], r["benchmark"], r.get("index") or {}
    canaries = ", ".join(
        f"{k} {'passed' if v.get('passed') else 'FAILED'}" for k, v in r["canaries"].items()
    )
    return "\n".join(
        [
            f"model {r['model_id']} ({len(r['folds'])} folds, {r['n_dates']} test dates)",
            f"IC {_num(r['ic'], '.4f')} (IR {_num(r['icir'], '.3f')}, "
            f"t {_num(r['ic_tstat'], '.2f')})",
            f"Rank IC {_num(r['rank_ic'], '.4f')} (IR {_num(r['rank_icir'], '.3f')}, "
            f"t {_num(r['rank_ic_tstat'], '.2f')}, {r['tstat_method']}); hit rate "
            f"{_num(r['hit_rate'], '.1%')}",
            "quantile mean returns: " + ", ".join(_num(q, ".4%") for q in r["quantile_returns"]),
            f"top-N with costs: total {_num(top.get('total_return'), '.1%')}, Sharpe "
            f"{_num(top.get('sharpe'), '.2f')}; equal weight "
            f"{_num(bench.get('total_return'), '.1%')}"
            f" (Sharpe {_num(bench.get('sharpe'), '.2f')}); index "
            f"{_num(index.get('total_return'), '.1%')}",
            f"canaries: {canaries or 'not run'}",
        ]
    )
