"""Virtual portfolios: the ledger, its storage, and the lab format for transfer."""

from core.portfolio._lab_format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    LabPortfolio,
    LabPosition,
    LabTrade,
    lab_json_schema,
)
from core.portfolio._ledger import Fill, Ledger, LedgerError, Position, Side
from core.portfolio._repository import PortfolioError
from core.portfolio._service import PortfolioService, TradeResult, positions_frame, valuation
from core.portfolio._transfer import (
    LabFormatError,
    check_history,
    export_document,
    import_document,
    merge_documents,
    parse_document,
    replace_content,
    to_csv,
    to_excel,
    to_json,
)

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "Fill",
    "LabFormatError",
    "LabPortfolio",
    "LabPosition",
    "LabTrade",
    "Ledger",
    "LedgerError",
    "PortfolioError",
    "PortfolioService",
    "Position",
    "Side",
    "TradeResult",
    "check_history",
    "export_document",
    "import_document",
    "lab_json_schema",
    "merge_documents",
    "parse_document",
    "positions_frame",
    "replace_content",
    "to_csv",
    "to_excel",
    "to_json",
    "valuation",
]
