"""Start-up on a database that is already there: what one process pays to open it.

    python benchmarks/bench_startup.py                       # SQLite file in a temp folder
    python benchmarks/bench_startup.py --db postgresql+psycopg://USER:PW@127.0.0.1/DB

The database is prepared once (migrated, demo seeded); then ``--rounds`` times:

1. ``Workstation.open(url)`` then ``close()`` in this process (``prepare`` included);
2. ``python -m core portfolio list --json`` as a fresh process (interpreter, imports,
   ``prepare`` and the command), the URL passed in its environment.

Best and median of each are printed (the best is the least disturbed by other work on a
shared machine).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.workstation import Workstation  # noqa: E402


def timed(action, rounds: int) -> list[float]:
    seconds = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - start)
    return seconds


def report(label: str, seconds: list[float]) -> None:
    print(
        f"{label:<44} best {min(seconds) * 1e3:8.1f} ms   median "
        f"{statistics.median(seconds) * 1e3:8.1f} ms   ({len(seconds)} rounds)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL (default: a SQLite file in a temp folder)")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.db or f"sqlite:///{folder}/bench.db"
        Workstation.open(url, seed_demo=True).close()

        def open_close() -> None:
            Workstation.open(url, seed_demo=True).close()

        env = {**os.environ, "WORKSTATION_DATABASE_URL": url}

        def command() -> None:
            subprocess.run(
                [sys.executable, "-m", "core", "portfolio", "list", "--json"],
                cwd=ROOT,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )

        report("Workstation.open + close (in process)", timed(open_close, args.rounds))
        report("python -m core portfolio list --json", timed(command, max(args.rounds // 4, 3)))


if __name__ == "__main__":
    main()
