"""Virtual portfolios: the ledger, its storage, and the lab format for transfer."""

from core.portfolio._booking import TradeResult, naive_utc
from core.portfolio._fx import fx_rate_frame, fx_rates, rate_from
from core.portfolio._lab_check import Replay, check_history, parse_document, replay_history
from core.portfolio._lab_format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    LabPortfolio,
    LabPosition,
    LabTrade,
    lab_json_schema,
)
from core.portfolio._lab_json import MAX_DEPTH, MAX_DOCUMENT_BYTES, LabFormatError
from core.portfolio._lab_service import LabService
from core.portfolio._ledger import CASH_TOLERANCE, Fill, Ledger, LedgerError, Position, Side
from core.portfolio._options import GREEK_KEYS, OptionMark, VolSurface, intrinsic
from core.portfolio._orders import Leg
from core.portfolio._repository import (
    PortfolioConflict,
    PortfolioError,
    PortfolioInputError,
    PortfolioNotFound,
    fills_query,
    get_row,
)
from core.portfolio._service import PortfolioService, positions_frame, valuation
from core.portfolio._transfer import (
    export_document,
    merge_documents,
    to_csv,
    to_excel,
    to_json,
)
from core.portfolio._valuation import PortfolioSummary

__all__ = [
    "CASH_TOLERANCE",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "GREEK_KEYS",
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "Fill",
    "LabFormatError",
    "LabPortfolio",
    "LabPosition",
    "LabService",
    "LabTrade",
    "Ledger",
    "LedgerError",
    "Leg",
    "OptionMark",
    "PortfolioConflict",
    "PortfolioError",
    "PortfolioInputError",
    "PortfolioNotFound",
    "PortfolioService",
    "PortfolioSummary",
    "Position",
    "Replay",
    "Side",
    "TradeResult",
    "VolSurface",
    "check_history",
    "export_document",
    "fills_query",
    "fx_rate_frame",
    "fx_rates",
    "get_row",
    "intrinsic",
    "lab_json_schema",
    "merge_documents",
    "naive_utc",
    "parse_document",
    "positions_frame",
    "rate_from",
    "replay_history",
    "to_csv",
    "to_excel",
    "to_json",
    "valuation",
]
