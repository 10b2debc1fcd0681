"""``tasks``: long work run by worker processes (list, show, cancel) and ``task-worker``."""

from __future__ import annotations

from core.cli._output import CommandError, emit, open_workstation
from core.workstation import Workstation

KEYS = ["id", "kind", "status", "progress", "created_at", "finished_at", "error"]


def register(commands, shared) -> None:
    """Add ``tasks`` (list, show, cancel) and ``task-worker`` to the parser."""
    tasks = commands.add_parser("tasks", help="long work run by workers: list, show, cancel")
    verbs = tasks.add_subparsers(dest="verb", required=True)
    listing = verbs.add_parser("list", help="the newest tasks", parents=[shared])
    listing.add_argument("--kind", help="only this kind (ml_train, rl_train, ...)")
    listing.add_argument("--limit", type=int, default=20)
    listing.set_defaults(handler=list_tasks)
    show = verbs.add_parser("show", help="one task with its result", parents=[shared])
    show.add_argument("task")
    show.set_defaults(handler=show_task)
    cancel = verbs.add_parser("cancel", help="ask a task to stop", parents=[shared])
    cancel.add_argument("task")
    cancel.set_defaults(handler=cancel_task)
    worker = commands.add_parser(
        "task-worker", help="run a queued task (the pages start it)", parents=[shared]
    )
    worker.add_argument("--task", required=True, help="the task id")
    worker.set_defaults(handler=task_worker)


def _row(task) -> dict:
    return {
        "id": task.id,
        "kind": task.kind,
        "status": task.status.value,
        "progress": task.progress_text,
        "done": task.done,
        "total": task.total,
        "unit": task.unit,
        "created_at": task.created_at,
        "finished_at": task.finished_at,
        "error": task.error,
    }


def list_tasks(args) -> None:
    """Print the newest tasks."""
    ws = open_workstation(args)
    rows = [_row(t) for t in ws.tasks.list(args.kind, args.limit)]
    lines = [f"{r['id']}  {r['kind']:<16} {r['status']:<10} {r['progress']}" for r in rows]
    emit(args, {"tasks": rows}, "\n".join(lines) or "no tasks")


def show_task(args) -> None:
    """Print one task, its request, curve and result."""
    ws = open_workstation(args)
    task = ws.tasks.get(args.task)
    if task is None:
        raise CommandError(f"tasks show: no task {args.task!r}")
    payload = {**_row(task), "request": task.request, "curve": task.curve, "result": task.result}
    emit(args, payload, f"{task.id} {task.kind}: {task.status.value} · {task.progress_text}")


def cancel_task(args) -> None:
    """Ask a task to stop."""
    ws = open_workstation(args)
    asked = ws.tasks.request_cancel(args.task)
    text = f"task {args.task}: cancel requested" if asked else f"task {args.task}: finished"
    emit(args, {"task": args.task, "cancel_requested": asked}, text)


def task_worker(args) -> None:
    """Run one queued task in this process (started detached by a page)."""
    ws = Workstation.open(args.db, seed_demo=False)
    try:
        status = ws.tasks.run(args.task)
    finally:
        ws.close()
    emit(args, {"task": args.task, "status": status.value}, f"task {args.task}: {status.value}")
