"""The warm-worker helper process (``python -m core._warm_server MODULE…``), see :mod:`core.warm`.

It imports the modules named on its command line, writes ``ready``, then reads one JSON
request per line on standard input (``args``, ``env``, ``log``, ``cwd``) and forks a worker
for each, answering ``{"pid": …}``. It ends when its standard input closes.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def serve(preload: tuple[str, ...]) -> None:
    """The helper's loop: import ``preload``, say ``ready``, fork one worker per request line."""
    for name in preload:
        importlib.import_module(name)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the workers
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    replies.write(b"ready\n")
    replies.flush()
    for line in iter(requests.readline, b""):
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _run_worker(request)  # never returns
        replies.write(json.dumps({"pid": pid}).encode() + b"\n")
        replies.flush()


def _run_worker(request: dict) -> None:
    """In the forked child: become the worker a cold ``python -m core ARGS`` would be."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()  # its own session: it survives the helper and the app server
        null = os.open(os.devnull, os.O_RDWR)
        out = null
        if request["log"] is not None:
            Path(request["log"]).parent.mkdir(parents=True, exist_ok=True)
            out = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = [str(ROOT / "core" / "__main__.py"), *request["args"]]
        from core.cli import main

        code = main(request["args"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)


if __name__ == "__main__":
    serve(tuple(sys.argv[1:]))
