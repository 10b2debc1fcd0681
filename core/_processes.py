"""Worker processes: launch ``python -m core …`` detached, and tell whether a pid still runs.

Optimization jobs and paper sessions both run in a worker process that outlives the page
that started it; this is the one place that knows how to start and probe one.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol, TypeVar

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")


DATABASE_URL_ENV = "WORKSTATION_DATABASE_URL"
NICE_ENV = "WORKSTATION_WORKER_NICE"
WORKER_NICE = 10
"""How much lower a spawned worker's CPU priority is than its launcher's (Unix ``nice``)."""
AUTOGROUP = Path("/proc/self/autogroup")
_AUTOGROUP_LINE = re.compile(r"\bnice\s+(-?\d+)\s*$")


def lower_priority() -> None:
    """In a spawned worker: lower this process's CPU priority to ``$WORKSTATION_WORKER_NICE``.

    :func:`spawn_core` sets it, so a worker trading or searching as fast as it can yields the
    CPU to the app server and the browser that launched it (a click stays quick while a
    worker runs); the worker still gets every cycle they leave idle. A command typed in a
    shell does not have it set and keeps the shell's priority. The level is absolute: a
    worker that spawns another (a schedule its task) does not push it lower still.

    A worker runs in its own session, and Linux with autogroup scheduling on
    (``/proc/sys/kernel/sched_autogroup_enabled``) shares the CPU between sessions first: a
    process's own nice then only ranks it inside its session. So the session's autogroup
    gets the same level (``/proc/self/autogroup``), where there is one.
    """
    raw = os.environ.get(NICE_ENV, "")
    if not raw or not hasattr(os, "nice"):
        return
    try:
        level = max(0, min(int(raw), 19))
    except ValueError:
        return  # a courtesy, never a reason to fail
    with contextlib.suppress(OSError):
        os.nice(max(0, level - os.nice(0)))
    if os.getsid(0) == os.getpid():  # the leader of its own session: the group is its own
        with contextlib.suppress(OSError):
            AUTOGROUP.write_text(f"{level}\n")


def autogroup_nice(pid: int | str = "self", proc: Path = Path("/proc")) -> int | None:
    """The nice level of process ``pid``'s autogroup (None without autogroup scheduling).

    None too where the file exists but does not say (empty under some sandboxes).
    """
    try:
        text = (proc / str(pid) / "autogroup").read_text()  # "/autogroup-123 nice 10"
    except OSError:
        return None
    found = _AUTOGROUP_LINE.search(text)  # some kernels and sandboxes give an empty file
    return int(found.group(1)) if found else None


def poll_until(
    read: Callable[[], T],
    done: Callable[[T], bool],
    *,
    timeout: float,
    poll: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """The last value ``read()`` gave, polled every ``poll`` seconds.

    Polling stops once ``done`` holds for it or ``timeout`` seconds have passed: how a page
    waits for a worker it launched.
    """
    deadline = clock() + timeout
    while True:
        value = read()
        if done(value) or clock() >= deadline:
            return value
        sleep(poll)


class Launcher(Protocol):
    """Starts a worker faster than a cold interpreter (:class:`core.warm.WarmLauncher`)."""

    def spawn(self, args: list[str], log_file: Path | None, env: Mapping[str, str]) -> int | None:
        """The worker's pid, or None to start it cold."""


_launcher: Launcher | None = None


def use_launcher(launcher: Launcher | None) -> None:
    """Route :func:`spawn_core` through ``launcher`` in this process (None: cold starts only).

    Process-wide because workers are: the composition root sets it (the app's
    :meth:`core.workstation.Workstation.open` with ``warm_workers=True``), nothing else does.
    """
    global _launcher
    _launcher = launcher


def current_launcher() -> Launcher | None:
    """The launcher :func:`spawn_core` uses in this process, if any."""
    return _launcher


def spawn_core(
    args: list[str],
    log_file: Path | None = None,
    *,
    database_url: str | None = None,
    env: dict[str, str] | None = None,
) -> int:
    """Start ``python -m core ARGS`` in its own session (it survives its parent); its pid.

    Output goes to ``log_file`` (appended; its folder is created) or is discarded. The
    ``database_url``, which may carry a password, reaches the worker through its environment
    (``WORKSTATION_DATABASE_URL``, readable only by its user), never its command line, which
    every user of the machine can read (``ps``, ``/proc/PID/cmdline``). ``env`` adds more
    variables (a task's models directory, say).

    With a launcher installed (:func:`use_launcher`) the worker is forked from it, with the
    same arguments, environment, working directory and log; when it cannot (still
    importing, gone) the worker starts cold as below.
    """
    env = {**os.environ, NICE_ENV: str(WORKER_NICE), **(env or {})}
    if database_url is not None:
        env[DATABASE_URL_ENV] = database_url
    if _launcher is not None:
        pid = _launcher.spawn(list(args), None if log_file is None else Path(log_file), env)
        if pid is not None:
            return pid
    out = subprocess.DEVNULL
    if log_file is not None:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        out = open(log_file, "ab")  # noqa: SIM115  (closed once the child holds it)
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "core", *args],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
    finally:
        if log_file is not None:
            out.close()
    return process.pid


def process_alive(pid: int) -> bool:
    """True while process ``pid`` runs on this machine.

    An exited child of this process is reaped here (no zombie is left under the server); an
    exited, unreaped child of another process counts as gone.
    """
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not our child, or already reaped
        pass
    else:
        if reaped == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: trust the signal check
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")
