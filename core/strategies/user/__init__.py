"""User strategies: drop a module here and it is registered.

The module defines a ``Strategy`` subclass with a unique ``name`` and a ``Params`` model; it
appears in the Backtest page and ``python -m core backtest``. See docs/STRATEGIES.md.
"""
