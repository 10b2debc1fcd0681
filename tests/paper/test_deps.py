"""Paper trading reads only what it declares: :class:`PaperDeps` and a portfolio opener.

A session is created, traded in two runs (the second resumes), commanded, read and reconciled
by a service and workers built on collaborators that refuse every attribute outside the declared
set; the source of ``core/paper`` is checked for the paths a short session does not take.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
from pathlib import Path

import pytest

from core.paper import PaperDeps, PaperService, PaperWorker
from tests.conftest import REPO_ROOT
from tests.paper.test_worker import fills, replay_config

DECLARED = {"sessions", "engine", "backtests", "allow_network", "strategy_models"}
"""What the worker and the service read of their bundle."""


class Only:
    """``target`` seen through the attribute names ``allowed`` (``replaced``: those given here
    instead of the target's); every other read fails, and ``used`` records what was read."""

    def __init__(self, target, allowed: set[str], label: str, **replaced):
        self._target, self._allowed, self._label = target, allowed | set(replaced), label
        self._replaced, self.used = replaced, set()

    def __getattr__(self, name: str):
        if name not in self._allowed:
            raise AttributeError(f"{self._label}.{name} is outside what paper declares")
        self.used.add(name)
        return self._replaced[name] if name in self._replaced else getattr(self._target, name)


def narrow(ws) -> tuple[PaperDeps, Only, Only, Only]:
    """A bundle on ``ws``'s database whose bar source and portfolios allow only their protocol."""
    market = Only(ws.market, {"instrument"}, "backtests.market")
    backtests = Only(ws.backtests, {"load"}, "backtests", market=market)
    portfolios = Only(ws.portfolios, {"create"}, "portfolios")
    deps = PaperDeps(ws.sessions, ws.engine, backtests, allow_network=False)
    return deps, backtests, market, portfolios


def test_the_bundle_declares_exactly_what_paper_reads():
    assert {f.name for f in dataclasses.fields(PaperDeps)} == DECLARED
    assert list(inspect.signature(PaperService).parameters) == ["deps", "portfolios"]
    deps = PaperDeps(None, None, None, allow_network=False)
    assert not hasattr(deps, "__dict__")  # slots: nothing else can be put on it or read off it
    with pytest.raises(AttributeError):
        deps.settings  # noqa: B018
    with pytest.raises(dataclasses.FrozenInstanceError):
        deps.sessions = object()


def test_the_narrow_collaborators_refuse_what_is_not_declared(ws):
    _deps, backtests, market, portfolios = narrow(ws)
    for fake, name in ((portfolios, "trade"), (backtests, "run"), (market, "bars")):
        with pytest.raises(AttributeError, match="outside what paper declares"):
            getattr(fake, name)


def test_a_session_runs_resumes_and_reconciles_on_the_declared_bundle_alone(ws):
    deps, backtests, _market, portfolios = narrow(ws)
    paper = PaperService(deps, portfolios)
    config = replay_config(params={"fast": 5, "slow": 20})
    paper.create("narrow", config)
    assert PaperWorker(deps, "narrow").run(max_events=400)["status"] == "stopped"
    paper.send("narrow", "pause")  # queued for the next run, which applies it and resumes
    paper.send("narrow", "resume")
    summary = paper.worker("narrow").run()  # re-runs the 400 committed events first
    assert summary["status"] == "finished"
    # the same session on the whole workstation: the same fills, one by one
    ws.paper.create("whole", config)
    ws.paper.worker("whole").run()
    narrow_fills, whole_fills = fills(ws, "narrow"), fills(ws, "whole")
    assert len(narrow_fills) > 10
    cols = ["ts", "strategy", "symbol", "side", "quantity", "price", "commission"]
    assert narrow_fills[cols].equals(whole_fills[cols])
    status = paper.status("narrow")
    assert status["n_fills"] == len(narrow_fills)
    assert status["events"] == status["n_events"] == ws.paper.status("whole")["events"]
    assert [c["kind"] for c in status["commands"]] == ["pause", "resume"]
    assert len(paper.snapshot("narrow", n_fills=7).fills) == 7
    assert paper.reconcile("narrow")["match"]
    # each narrow collaborator was used, through its declared names only
    assert portfolios.used == {"create"}
    assert backtests.used == {"load"}


def _deps_reads(tree: ast.AST) -> set[str]:
    """Attribute names read off ``deps``, ``self.deps`` or ``self._deps`` in ``tree``."""

    def is_bundle(node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return node.id == "deps"
        return (
            isinstance(node, ast.Attribute)
            and node.attr in ("deps", "_deps")
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
        )

    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and is_bundle(node.value)
    }


def test_core_paper_reads_only_declared_names_off_its_bundle():
    """Every path, including those a replayed session never takes (a live feed's resume)."""
    reads: dict[str, set[str]] = {}
    for path in sorted(Path(REPO_ROOT, "core", "paper").glob("*.py")):
        names = _deps_reads(ast.parse(path.read_text(encoding="utf-8")))
        if names:
            reads[path.name] = names
    assert {"_worker.py", "_service.py", "_reconcile.py"} <= set(reads)  # the checker sees them
    outside = {name: sorted(n - DECLARED) for name, n in reads.items() if n - DECLARED}
    assert not outside, f"read off the paper bundle but not declared in PaperDeps: {outside}"
    assert "ws" not in {n.id for n in ast.walk(ast.parse(_source())) if isinstance(n, ast.Name)}


def _source() -> str:
    return "\n".join(
        p.read_text(encoding="utf-8") for p in sorted(Path(REPO_ROOT, "core", "paper").glob("*.py"))
    )


def test_the_bundle_checker_finds_an_undeclared_read():
    tree = ast.parse("def f(deps, self):\n    deps.settings.x\n    self._deps.market\n")
    assert _deps_reads(tree) - DECLARED == {"settings", "market"}


def test_a_workstation_is_refused_with_the_factory_named(ws):
    ws.paper.create("old", replay_config())
    with pytest.raises(TypeError, match=r"ws\.paper\.worker\(name\)"):
        PaperWorker(ws, "old")
