"""The lab's modules (everything in core/optimize but its ``jobs`` subpackage) are pure: no
database, no processes, no workstation, and they never reach into the job plumbing."""

from __future__ import annotations

from tests.conftest import REPO_ROOT
from tests.test_architecture import import_graph, imported_names, package_modules

PLUMBING = ("core.db", "core._processes", "core.workstation", "core.optimize.jobs", "core.config")
LIBRARIES = ("sqlalchemy", "subprocess", "alembic")


def lab_modules() -> dict:
    modules = package_modules(REPO_ROOT, "core")
    return {
        m: p
        for m, p in modules.items()
        if m.startswith("core.optimize._")  # the package __init__ re-exports jobs, on purpose
    }


def test_the_lab_modules_exist_and_the_jobs_live_apart():
    lab = lab_modules()
    assert "core.optimize._space" in lab and "core.optimize._methods" in lab
    assert not any(m.startswith("core.optimize._job") for m in lab)
    jobs = package_modules(REPO_ROOT, "core")
    assert {"core.optimize.jobs._store", "core.optimize.jobs._runner"} <= set(jobs)


def test_no_lab_module_imports_the_database_processes_or_the_jobs():
    graph = import_graph(package_modules(REPO_ROOT, "core"))
    offenders = {
        m: sorted(d for d in graph[m] if d.startswith(PLUMBING))
        for m in lab_modules()
        if any(d.startswith(PLUMBING) for d in graph[m])
    }
    assert offenders == {}


def test_no_lab_module_imports_sqlalchemy_or_subprocess():
    offenders = {
        m: sorted(n for n in imported_names(m, p) if n.split(".")[0] in LIBRARIES)
        for m, p in lab_modules().items()
    }
    assert {m: n for m, n in offenders.items() if n} == {}
