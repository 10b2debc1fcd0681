"""Errors as JSON: ``{"error": {"message": ..., "where": ...}}``, never a traceback.

A refusal of the workstation (:mod:`core.errors`) keeps its message with the status of its
kind (404 not found, 422 invalid input, 409 conflict, 403 blocked by risk); a bad parameter
is a 422 naming it (``query.limit``); an unexpected error is a 500 with a reference whose
traceback goes to the server's log only.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from core.errors import (
    BlockedByRiskError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    WorkstationError,
    describe_validation,
    error_reference,
    location,
    model_label,
)

log = logging.getLogger("core.api")

STATUS = (
    (NotFoundError, 404),
    (InvalidInputError, 422),
    (ConflictError, 409),
    (BlockedByRiskError, 403),
)


def error_response(status: int, message: str, where: str | None, **headers: str) -> JSONResponse:
    """The one shape of every error the API answers."""
    body = {"error": {"message": message, "where": where}}
    return JSONResponse(body, status_code=status, headers=headers or None)


def _route(request: Request) -> str:
    return request.url.path


def _refused(request: Request, exc: WorkstationError) -> JSONResponse:
    status = next((code for kind, code in STATUS if isinstance(exc, kind)), 422)
    return error_response(status, str(exc), exc.where or exc.field or _route(request))


def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    first = errors[0] if errors else {}
    where = location(first.get("loc", ())) or _route(request)
    parts = [f"{location(e.get('loc', ()))}: {e.get('msg', 'invalid value')}" for e in errors]
    return error_response(422, "; ".join(parts[:5]) or "invalid request", where)


def _pydantic(request: Request, exc: ValidationError) -> JSONResponse:
    return error_response(422, describe_validation(exc, model_label(exc)), _route(request))


def _http(request: Request, exc: HTTPException) -> JSONResponse:
    headers = dict(exc.headers or {})
    return error_response(exc.status_code, str(exc.detail), _route(request), **headers)


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    ref = error_reference()
    log.error("unexpected error on %s (ref %s)", _route(request), ref, exc_info=exc)
    return error_response(500, f"unexpected error (ref {ref}); details in the server log", None)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` in the API's JSON shape."""
    app.add_exception_handler(WorkstationError, _refused)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(ValidationError, _pydantic)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
