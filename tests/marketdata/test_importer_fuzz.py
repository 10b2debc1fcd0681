"""Fuzzing CSV bar imports (issue 10): mutate a valid price file cell by cell and line by
line; each file is either accepted — and then every rule holds on the bars, and the stored
bars are the file's — or refused with a one-line WorkstationError and nothing written."""

from __future__ import annotations

import os
from datetime import datetime
from itertools import count

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from core.config import Settings
from core.errors import WorkstationError
from core.marketdata import read_bars_file
from core.workstation import Workstation
from tests.conftest import count_rows

NOW = datetime(2026, 12, 2, 12, 0)
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),  # more for a deeper local run
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HEADER = ["Date", "Open", "High", "Low", "Close", "Volume"]
ROWS = [
    ["2021-03-01", "10.0", "11.0", "9.5", "10.5", "1000"],
    ["2021-03-02", "10.5", "12.0", "10.0", "11.5", "1500"],
    ["2021-03-03", "11.5", "11.75", "10.25", "10.75", "0"],
    ["2021-03-04", "10.75", "10.75", "10.75", "10.75", "250"],
]
_symbols = count()


@pytest.fixture(scope="module")
def fuzz_ws(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    workstation = Workstation(
        Settings(database_url=f"sqlite:///{folder}/ws.db", seed_demo=False), clock=lambda: NOW
    )
    workstation.prepare()
    yield workstation
    workstation.close()


ODD_CELLS = ["", " ", "NaN", "nan", "inf", "-inf", "1e400", "-5", "0", "1e308", "abc", '"',
             "\x00", "0001-01-01", "9999-12-31", "2100-01-01", "1799-12-31", "2021-02-30",
             "3/1/2021", "2021-03-01T10:00:00+05:00", "2021-03-01 25:00", "1,5", "10;5", "\n",
             "\r"]  # fmt: skip
CELLS = st.one_of(
    st.sampled_from(ODD_CELLS),
    st.text(max_size=8),
    st.floats().map(repr),
    st.integers(-(10**30), 10**30).map(str),
)


@st.composite
def mutated_csv(draw) -> bytes:
    header, rows = list(HEADER), [list(r) for r in ROWS]
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["cell", "extra", "fewer", "dup", "swap", "header", "drop"]))
        i = draw(st.integers(0, len(rows) - 1))
        if kind == "cell" and rows[i]:
            rows[i][draw(st.integers(0, len(rows[i]) - 1))] = draw(CELLS)
        elif kind == "extra":
            rows[i].append(draw(CELLS))
        elif kind == "fewer" and rows[i]:
            rows[i] = rows[i][: draw(st.integers(0, len(rows[i]) - 1))]
        elif kind == "dup":
            rows.insert(i, list(rows[i]))
        elif kind == "swap":
            j = draw(st.integers(0, len(rows) - 1))
            rows[i], rows[j] = rows[j], rows[i]
        elif kind == "header":
            header[draw(st.integers(0, len(header) - 1))] = draw(
                st.sampled_from(["", "date", "Adj Close", "price", "Close", "x", "Volume"])
            )
        elif kind == "drop" and len(rows) > 1:
            rows.pop(i)
    separator = draw(st.sampled_from([",", ";", "\t"]))
    text = "\n".join(separator.join(line) for line in [header, *rows]) + "\n"
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = draw(st.sampled_from([b"\xef\xbb\xbf", b"", b"\xff"])) + data
    return data


def judge(ws, data: bytes) -> str:
    before = count_rows(ws)
    symbol = f"FZ{next(_symbols)}"
    try:
        bars = read_bars_file(data, filename="fuzz.csv", now=NOW)
        ws.market.import_file(data, symbol, filename="fuzz.csv")
    except WorkstationError as exc:
        message = str(exc)
        assert message and "\n" not in message and "\r" not in message, repr(message)
        assert "Traceback" not in message and "http" not in message, message
        assert count_rows(ws) == before, message
        return "refused"
    index = bars.index
    assert index.is_monotonic_increasing and index.is_unique
    assert (index >= pd.Timestamp("1800-01-01")).all() and (
        index <= pd.Timestamp(NOW) + pd.Timedelta(days=2)
    ).all()
    prices = bars[["open", "high", "low", "close"]].dropna(axis=1, how="all").to_numpy()
    assert np.isfinite(prices).all() and (prices > 0).all()
    if bars["open"].notna().all():
        assert (bars["high"] >= np.maximum(bars["open"], bars["close"])).all()
        assert (bars["low"] <= np.minimum(bars["open"], bars["close"])).all()
    volume = bars["volume"].dropna()
    assert np.isfinite(volume).all() and (volume >= 0).all()
    stored = ws.market.bars(symbol)
    pd.testing.assert_frame_equal(stored, bars, check_freq=False, check_index_type=False)
    return "accepted"


def test_the_base_file_is_accepted(fuzz_ws):
    data = ("\n".join(",".join(r) for r in [HEADER, *ROWS]) + "\n").encode()
    assert judge(fuzz_ws, data) == "accepted"


@FUZZ
@given(mutated_csv())
def test_mutated_csv_files_never_raise_a_traceback_nor_write_on_refusal(fuzz_ws, data):
    event(judge(fuzz_ws, data))


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes_are_refused_cleanly(fuzz_ws, data):
    judge(fuzz_ws, data)
