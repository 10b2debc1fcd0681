"""Gates on the shape of ``core``: no import circle, nothing below the composition root imports
it, and ``core`` never imports the Streamlit shell.

The import graph is read from the source with :mod:`ast`, not by importing: every ``import``
and ``from … import`` counts wherever it stands (module level, inside a function, under
``if TYPE_CHECKING:``), because each one is a dependency a reader has to follow and a circle
waiting for the day someone moves it to the top of the file. An import of ``a.b.c`` also
depends on the packages ``a.b`` and ``a`` (Python runs their ``__init__`` first), except on the
importer's own packages.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

SHELL = ("streamlit", "app", "pages")
"""Top-level packages ``core`` must never import."""

WORKSTATION = "core.workstation"

WORKSTATION_IMPORTERS_ALLOWED: dict[str, str] = {}
"""Modules under ``core`` other than ``core/cli/*`` that may still import the workstation."""

CYCLES_ALLOWED: list[frozenset[str]] = []
"""Import circles tolerated for now (none: keep it so)."""


# -- the graph -------------------------------------------------------------------------------
def package_modules(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name → file, for every ``.py`` under ``root/package`` (migrations aside:
    Alembic loads them by path)."""
    modules = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if "migrations" in parts:
            continue
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def imported_names(module: str, path: Path) -> set[str]:
    """Every dotted name ``module`` imports, relative imports resolved; ``from a import b``
    gives ``a.b`` (which is a module or a name in ``a``)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module → the modules of ``modules`` it depends on. A name that is no module stands for
    the module that holds it; an import of ``a.b.c`` also depends on ``a.b`` and ``a`` (their
    ``__init__`` runs first), but never on the importer's own packages."""
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for name in imported_names(module, path):
            while name and name not in modules:
                name = name.rpartition(".")[0]
            while name:
                if name in modules and not f"{module}.".startswith(f"{name}."):
                    graph[module].add(name)
                name = name.rpartition(".")[0]
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def a_circle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One concrete circle through ``component``'s first module, for the failure message."""
    members, start = set(component), component[0]
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & members):
                if w == start:
                    return [*paths[v], start]
                if w not in paths:
                    paths[w] = [*paths[v], w]
                    nxt.append(w)
        frontier = nxt
    return component


@pytest.fixture(scope="module")
def core_graph() -> dict[str, set[str]]:
    return import_graph(package_modules(REPO_ROOT, "core"))


# -- the gates -------------------------------------------------------------------------------
def test_core_has_no_import_cycle(core_graph):
    cycles = [c for c in import_cycles(core_graph) if frozenset(c) not in CYCLES_ALLOWED]
    assert not cycles, "import circles in core:\n" + "\n".join(
        " → ".join(a_circle(core_graph, c)) for c in cycles
    )


def test_only_the_entry_points_import_the_workstation(core_graph):
    importers = {m for m, deps in core_graph.items() if WORKSTATION in deps}
    allowed = {m for m in importers if m.startswith("core.cli.")}
    offenders = sorted(importers - allowed - set(WORKSTATION_IMPORTERS_ALLOWED))
    assert not offenders, f"import core.workstation below the composition root: {offenders}"


def test_the_workstation_allowlist_is_not_stale(core_graph):
    stale = [m for m in WORKSTATION_IMPORTERS_ALLOWED if WORKSTATION not in core_graph.get(m, ())]
    assert not stale, f"no longer import the workstation, drop them from the allowlist: {stale}"


def test_core_never_imports_the_shell():
    offenders = sorted(
        f"{module}: {name}"
        for module, path in package_modules(REPO_ROOT, "core").items()
        for name in imported_names(module, path)
        if name.split(".")[0] in SHELL
    )
    assert not offenders, f"core imports the Streamlit shell: {offenders}"


def _ruff(*args: str, stdin: str | None = None, select: str | None = "TID251"):
    """``ruff check`` from the repository root with its pyproject config; ``select`` narrows
    the rules (None: every rule the project enables)."""
    command = [sys.executable, "-m", "ruff"] if _has_ruff_module() else [shutil.which("ruff")]
    chosen = ["--select", select] if select else []
    return subprocess.run(
        [*command, "check", "--no-cache", *chosen, *args],
        cwd=REPO_ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _has_ruff_module() -> bool:
    import importlib.util

    return importlib.util.find_spec("ruff") is not None


needs_ruff = pytest.mark.skipif(
    not _has_ruff_module() and shutil.which("ruff") is None, reason="ruff is not installed"
)


@needs_ruff
def test_ruff_banned_api_passes_on_core():
    result = _ruff("core")
    assert result.returncode == 0, result.stdout + result.stderr


@needs_ruff
@pytest.mark.parametrize(
    "line", ["import streamlit as st", "from app import services", "import pages.home"]
)
def test_ruff_banned_api_refuses_the_shell_in_core(line):
    result = _ruff("--stdin-filename", "core/_probe.py", "-", stdin=line + "\n")
    assert result.returncode == 1
    assert "TID251" in result.stdout


@needs_ruff
def test_ruff_banned_api_lets_the_shell_import_streamlit():
    result = _ruff("--stdin-filename", "app/_probe.py", "-", stdin="import streamlit as st\n")
    assert result.returncode == 0, result.stdout + result.stderr


# -- the shell calls services ----------------------------------------------------------------
def shell_offences(path: Path) -> list[str]:
    """What a panel or page must not do: open a session or transaction itself, import the
    tables or SQLAlchemy, or import a private module of ``core`` (a missing public name)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                parts = name.split(".")
                if parts[0] == "sqlalchemy" or name.startswith("core.db"):
                    found.append(f"{path.name}:{node.lineno}: imports {name}")
                elif parts[0] == "core" and any(p.startswith("_") for p in parts[1:]):
                    found.append(f"{path.name}:{node.lineno}: imports private {name}")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "begin":
                func = func.value
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "sessions"
                and func is not node.func
            ):
                found.append(f"{path.name}:{node.lineno}: opens a transaction")
            elif isinstance(node.func, ast.Attribute) and node.func.attr == "sessions":
                found.append(f"{path.name}:{node.lineno}: opens a session")
    return found


SHELL_OFFENCES_ALLOWED: dict[str, str] = {}
"""Offences of the shell tolerated for now, by ``file: offence``."""


def test_panels_and_pages_open_no_session_and_import_no_tables():
    files = sorted([*(REPO_ROOT / "app").rglob("*.py"), *(REPO_ROOT / "pages").rglob("*.py")])
    offences = [o for f in files for o in shell_offences(f)]
    offences = [o for o in offences if _unnumbered(o) not in SHELL_OFFENCES_ALLOWED]
    assert not offences, "the shell must call services:\n" + "\n".join(offences)


def _unnumbered(offence: str) -> str:
    where, what = offence.split(": ", 1)
    return f"{where.split(':')[0]}: {what}"


def test_the_shell_checker_finds_sessions_tables_and_private_names(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from sqlalchemy import select\n"
        "from core.db import AuditEventRow\n"
        "from core.risk._store import LIMITS_KEY\n"
        "with ws.sessions() as s: pass\n"
        "with ws.sessions.begin() as s: pass\n"
        "store = JobStore(ws.sessions)\n",  # handing the factory to core is no offence
        encoding="utf-8",
    )
    assert [o.split(": ", 1)[1] for o in shell_offences(probe)] == [
        "imports sqlalchemy",
        "imports core.db",
        "imports private core.risk._store",
        "opens a session",
        "opens a transaction",
    ]


# -- numpydoc docstrings and complexity, through the project's ruff config ------------------
@needs_ruff
def test_ruff_passes_on_core_with_the_project_config():
    """Every rule pyproject.toml enables, on core/: the pydocstyle ``D`` rules (numpy
    convention; names in ``_private`` modules are not public) and ``C901`` (at most 12)."""
    result = _ruff("core", "--output-format", "concise", select=None)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_ruff
@pytest.mark.parametrize(
    ("source", "rule"),
    [
        ("def public(x):\n    return x\n", "D103"),
        ('def public(x):\n    """One line\n    and a second."""\n    return x\n', "D205"),
        (
            "def tangled(a):\n"
            + "".join(f"    if a == {i}:\n        return {i}\n" for i in range(13))
            + "    return -1\n",
            "C901",
        ),
    ],
)
def test_the_project_config_refuses_undocumented_or_tangled_core_code(source, rule):
    result = _ruff("--stdin-filename", "core/probe.py", "-", stdin=source, select=None)
    assert result.returncode == 1
    assert rule in result.stdout


@needs_ruff
def test_private_modules_need_no_docstrings_on_their_names():
    source = '"""A private module."""\n\n\ndef helper(x):\n    return x\n'
    result = _ruff("--stdin-filename", "core/_probe.py", "-", stdin=source, select=None)
    assert result.returncode == 0, result.stdout


# -- the checker itself ----------------------------------------------------------------------
def _package(tmp_path: Path, files: dict[str, str]) -> dict[str, set[str]]:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return import_graph(package_modules(tmp_path, "pkg"))


def test_a_function_level_import_closes_a_circle(tmp_path):
    graph = _package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg.b import thing\n",
            "pkg/b.py": "def thing():\n    from pkg import a\n    return a\n",
        },
    )
    assert import_cycles(graph) == [["pkg.a", "pkg.b"]]


def test_a_type_checking_import_closes_a_circle(tmp_path):
    graph = _package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/root.py": "from pkg.low import service\n",
            "pkg/low/__init__.py": "from pkg.low._impl import service\n",
            "pkg/low/_impl.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n"
                "    from pkg.root import Root\n"
                "def service(root: 'Root'): ...\n"
            ),
        },
    )
    assert import_cycles(graph) == [["pkg.low", "pkg.low._impl", "pkg.root"]]
    assert " → ".join(a_circle(graph, import_cycles(graph)[0])).count("→") == 3


def test_relative_imports_and_own_package_are_no_circle(tmp_path):
    graph = _package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/sub/__init__.py": "from ._x import X\nfrom . import _y\n",
            "pkg/sub/_x.py": "from pkg.sub._y import Y\nX = Y\n",
            "pkg/sub/_y.py": "Y = 1\n",
            "pkg/other.py": "from .sub import X\n",
        },
    )
    assert graph["pkg.sub"] == {"pkg.sub._x", "pkg.sub._y"}
    assert graph["pkg.sub._x"] == {"pkg.sub._y"}  # its own package's __init__ is no edge
    assert graph["pkg.other"] == {"pkg.sub"}
    assert import_cycles(graph) == []


def test_importing_a_submodule_depends_on_its_package_init(tmp_path):
    graph = _package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/low/__init__.py": "from pkg.top import T\n",
            "pkg/low/_impl.py": "I = 1\n",
            "pkg/top.py": "import pkg.low._impl\nT = 1\n",
        },
    )
    assert graph["pkg.top"] == {"pkg.low", "pkg.low._impl"}
    assert import_cycles(graph) == [["pkg.low", "pkg.top"]]


# -- curated public surfaces: no other package's private modules ------------------------------
PRIVATE_IMPORTS_ALLOWED: dict[tuple[str, str], str] = {}
"""``(importer, private module)`` pairs tolerated, each with the reason (an import circle the
public route would close)."""


def private_imports(modules: dict[str, Path]) -> list[tuple[str, str]]:
    """``(importer, private module)`` for every import of a private module (a ``_name`` part)
    of another package. The owner of ``a.b._c.d`` is ``a.b``. No other package: the owner
    itself and its subpackages (``core.strategies.builtin`` uses ``core.strategies._base``;
    every room of ``core`` the shared ``core._json``), and an ``__init__`` above the owner,
    which is where a subpackage's names are re-exported. A plain module above the owner (such
    as ``core.workstation`` reading ``core.backtest._service``) goes through the owner's
    ``__init__``, and the shell (``app``, ``pages``) is outside ``core``."""
    found = set()
    for module, path in modules.items():
        init = path.name == "__init__.py"
        own = module if init else module.rpartition(".")[0]
        for name in imported_names(module, path):
            while name and name not in modules:
                name = name.rpartition(".")[0]
            parts = name.split(".")
            first = next((i for i, p in enumerate(parts) if p.startswith("_")), None)
            if first is None:
                continue
            owner = ".".join(parts[:first])
            inside = f"{own}.".startswith(f"{owner}.")
            above = init and f"{owner}.".startswith(f"{own}.")
            if not (inside or above):
                found.add((module, name))
    return sorted(found)


@pytest.fixture(scope="module")
def all_modules() -> dict[str, Path]:
    return {
        name: path
        for package in ("core", *SHELL[1:])
        for name, path in package_modules(REPO_ROOT, package).items()
    }


def test_no_module_imports_another_packages_private_modules(all_modules):
    offences = [o for o in private_imports(all_modules) if o not in PRIVATE_IMPORTS_ALLOWED]
    assert not offences, "import the package, not its private modules:\n" + "\n".join(
        f"{importer}: {private}" for importer, private in offences
    )


def test_the_private_import_allowlist_is_not_stale(all_modules):
    stale = set(PRIVATE_IMPORTS_ALLOWED) - set(private_imports(all_modules))
    assert not stale, f"no longer imported, drop them from the allowlist: {sorted(stale)}"


def test_the_private_import_checker_allows_own_and_subpackages_only(tmp_path):
    files = {
        "pkg/__init__.py": "from pkg.low.deep._impl import D\n",  # a subpackage's: fine
        "pkg/_top.py": "T = 1\n",
        "pkg/low/__init__.py": "from ._impl import I\n",
        "pkg/low/_impl.py": "from pkg.low._other import O\nI = O\n",  # its own: fine
        "pkg/low/_other.py": "from pkg import _top\nO = 1\n",  # a parent's: fine
        "pkg/low/deep/__init__.py": "",
        "pkg/low/deep/_impl.py": "D = 1\n",
        "pkg/low/deep/user.py": "from pkg import _top\nfrom pkg.low import _other\n",  # fine
        "pkg/side.py": "from pkg.low._impl import I\nfrom pkg.low import I as J\n",
        "pkg/root.py": "from pkg.low.deep._impl import D\n",  # above, but no __init__
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert private_imports(package_modules(tmp_path, "pkg")) == [
        ("pkg.root", "pkg.low.deep._impl"),
        ("pkg.side", "pkg.low._impl"),
    ]
