"""Long work in a worker process (``ws.tasks``): training, schedules, simulations."""

from core.tasks._service import (
    WRITE_EVERY,
    Stopped,
    TaskContext,
    TaskHandler,
    TaskService,
    TaskSnapshot,
    TaskStatus,
)

__all__ = [
    "WRITE_EVERY",
    "Stopped",
    "TaskContext",
    "TaskHandler",
    "TaskService",
    "TaskSnapshot",
    "TaskStatus",
]
