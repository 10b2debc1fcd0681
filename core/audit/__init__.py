"""The append-only audit trail, hash-chained with SHA-256."""

from core.audit._log import GENESIS_HASH, append_event, event_hash, verify_chain

__all__ = ["GENESIS_HASH", "append_event", "event_hash", "verify_chain"]
