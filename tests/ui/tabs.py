"""Tabs in page tests: a hidden tab draws its widgets only (see ``app.widgets.view_tabs``)."""

from __future__ import annotations


def open_tab(at, key: str, label: str):
    """Select the tab ``label`` of the tabs keyed ``key`` as a click would, and rerun."""
    at.session_state[key] = label
    at.run()
    assert not at.exception, at.exception
    return next(t for t in at.tabs if t.label == label)
