"""The workstation's domain: instruments, market data, the database, portfolios.

``core`` never imports streamlit, ``app`` or ``pages``: everything the browser can
do, ``core`` can do headless, and ``python -m core --help`` lists the jobs.
"""

__version__ = "0.1.0"
