"""The workstation's domain, one room per package.

Instruments, market data, the database, portfolios and the lab format, strategies, execution,
backtests, analytics, what-if, regimes, optimization, risk, allocation, rebalancing, paper trading,
the audit log and the command line.

``core/workstation.py`` is the composition root: it builds each service from the collaborators
it reads, and only the command line's entry points and the app import it. ``core`` never
imports streamlit, ``app`` or ``pages``: everything the browser can do, ``core`` can do
headless, and ``python -m core --help`` lists the jobs. ``tests/test_architecture.py`` holds
both rules and the absence of import circles.
"""

__version__ = "0.1.0"
