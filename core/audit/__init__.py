"""The append-only audit trail, hash-chained with SHA-256: append, verify, query, report."""

from core.audit._compliance import (
    BREACH_KINDS,
    compliance_report,
    is_breach,
    report_to_csv,
    report_to_json,
)
from core.audit._log import (
    GENESIS_HASH,
    AuditChainError,
    ChainReport,
    append_event,
    event_hash,
    verify_chain,
)
from core.audit._query import EVENT_COLUMNS, day_bounds, query_events
from core.audit._service import AuditEvent, AuditService

__all__ = [
    "BREACH_KINDS",
    "EVENT_COLUMNS",
    "GENESIS_HASH",
    "AuditChainError",
    "AuditEvent",
    "AuditService",
    "ChainReport",
    "append_event",
    "compliance_report",
    "day_bounds",
    "event_hash",
    "is_breach",
    "query_events",
    "report_to_csv",
    "report_to_json",
    "verify_chain",
]
