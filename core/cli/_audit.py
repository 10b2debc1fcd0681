"""``audit``: verify the hash chain, list events, write a compliance report."""

from __future__ import annotations

from pathlib import Path

from core.audit import (
    compliance_report,
    query_events,
    report_to_csv,
    report_to_json,
    verify_chain,
)
from core.cli._output import CommandError, emit, open_workstation, table


def register(commands, shared) -> None:
    parser = commands.add_parser(
        "audit", help="the audit log: verify, list, compliance report", parents=[shared]
    )
    sub = parser.add_subparsers(dest="audit_action", metavar="ACTION", required=True)
    verify = sub.add_parser(
        "verify",
        help="check every event's SHA-256 link; report the first broken event",
        parents=[shared],
    )
    verify.set_defaults(handler=audit_verify)
    listing = sub.add_parser("list", help="events, newest first, with filters", parents=[shared])
    listing.add_argument("--kind", action="append", help="event kind (repeatable)")
    listing.add_argument("--portfolio")
    listing.add_argument("--start", help="first date (YYYY-MM-DD)")
    listing.add_argument("--end", help="last date, inclusive (YYYY-MM-DD)")
    listing.add_argument("--text", help="substring of kind, portfolio, actor or payload")
    listing.add_argument("--limit", type=int, default=100, help="at most this many (100)")
    listing.set_defaults(handler=audit_list)
    report = sub.add_parser("report", help="compliance report of a date range", parents=[shared])
    report.add_argument("--start", required=True, help="first date (YYYY-MM-DD)")
    report.add_argument("--end", required=True, help="last date, inclusive (YYYY-MM-DD)")
    report.add_argument("--out", type=Path, help="write the report to FILE (.csv or .json)")
    report.set_defaults(handler=audit_report)


def audit_verify(args) -> int:
    """Exit status 2 when the chain is broken, so scripts need not parse the output."""
    ws = open_workstation(args)
    try:
        with ws.sessions() as session:
            result = verify_chain(session).to_dict()
    finally:
        ws.close()
    text = (
        f"OK: {result['n_events']} events, chain intact"
        if result["ok"]
        else f"BROKEN at event {result['first_bad_id']}: {result['reason']}"
    )
    emit(args, result, text)
    return 0 if result["ok"] else 2


def audit_list(args) -> None:
    if args.limit < 1:
        raise CommandError(f"--limit must be at least 1, got {args.limit}")
    ws = open_workstation(args)
    try:
        with ws.sessions() as session:
            events = query_events(
                session,
                kind=args.kind,
                portfolio=args.portfolio,
                start=args.start,
                end=args.end,
                text=args.text,
                limit=args.limit,
            )
    finally:
        ws.close()
    payload = {"n_events": len(events), "events": events.drop(columns=["prev_hash"])}
    shown = events[["id", "ts", "kind", "portfolio", "actor"]].assign(
        payload=events["payload"].map(lambda p: str(p)[:60])
    )
    emit(args, payload, table(shown))


def audit_report(args) -> None:
    out: Path | None = args.out
    if out is not None and out.suffix.lower() not in (".csv", ".json"):
        raise CommandError(f"--out must end in .csv or .json, got {out.name}")
    ws = open_workstation(args)
    try:
        with ws.sessions() as session:
            report = compliance_report(session, args.start, args.end, price_at=ws.market.last_price)
    finally:
        ws.close()
    if out is not None:
        text = report_to_csv(report) if out.suffix.lower() == ".csv" else report_to_json(report)
        out.write_text(text, encoding="utf-8")
    emit(args, {**report, "written_to": str(out) if out else None}, _text(report, out))


def _text(report: dict, out: Path | None) -> str:
    counts = ", ".join(f"{k} {v}" for k, v in report["counts_by_kind"].items()) or "none"
    fills = report["fills"]
    lines = [
        f"compliance report {report['start']} to {report['end']}",
        f"events: {report['n_events']} ({counts})",
        f"limit breaches: {report['n_breaches']} ({report['n_blocked']} blocked)",
        f"fills: {fills['count']}, notional {fills['notional']:,.2f}",
        f"chain: {'intact' if report['chain']['ok'] else report['chain']['reason']}",
        "largest positions:",
        *(
            f"  {p['portfolio']:<24} {p['symbol']:<8} {p['market_value']:>14,.2f}"
            for p in report["largest_positions"]
        ),
    ]
    if out is not None:
        lines.append(f"written to {out}")
    return "\n".join(lines)
