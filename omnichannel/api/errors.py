"""Every API error as ``application/problem+json`` (RFC 9457), mapped in this one place.

The body is ``{type, title, status, detail, errors}`` where ``errors`` maps a field
(``lines[0].sku``) to its messages; refusals that carry data add it (``shortfall``,
``allowed``). Service refusals nothing changed for are 400 (bad input), 403 (the caller may
not change that, e.g. a location outside its credential's scope) or 409 (the state of
stock, an order or a return does not allow it).
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views.defaults import page_not_found, server_error
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import Conflict, DomainError, InvalidInput, NotFound, NotPermitted
from inventory.exceptions import InsufficientStock, StockConflict
from oms.exceptions import ExternalIdConflict, TransitionNotAllowed
from returns.exceptions import ReturnNotAllowed

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE = "urn:oms:problem:{}"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used with a different request."
    default_code = "idempotency_key_reused"


def problem(status_code: int, code: str, detail: str, *, errors=None, title: str = "", **extra) -> dict:
    return {
        "type": PROBLEM_TYPE.format(code.replace("_", "-")),
        "title": title or code.replace("_", " ").capitalize(),
        "status": status_code,
        "detail": detail,
        "errors": errors or {},
        **extra,
    }


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error detail into field path → messages (``lines[0].sku``)."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(key, int):  # ListField errors are keyed by position
                path = f"{prefix}[{key}]"
            elif key == "non_field_errors":
                path = prefix
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_errors(value, path))
        return flat
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        flat = {}
        for i, item in enumerate(detail):
            flat.update(flatten_errors(item, f"{prefix}[{i}]"))
        return flat
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix or "body": [str(m) for m in messages]} if messages else {}


def _domain_problem(exc: DomainError) -> tuple[int, dict]:
    detail, errors = exc.message, exc.errors
    if isinstance(exc, InsufficientStock):
        shortfall = [s.as_dict() for s in exc.shortfalls]
        return 409, problem(409, "insufficient_stock", detail, errors=errors, shortfall=shortfall)
    if isinstance(exc, TransitionNotAllowed):
        return 409, problem(409, "transition_not_allowed", detail, current=exc.current, allowed=exc.allowed)
    if isinstance(exc, ReturnNotAllowed):
        return 409, problem(409, "return_not_allowed", detail, errors=errors)
    if isinstance(exc, ExternalIdConflict):
        return 409, problem(409, "external_id_conflict", detail, errors=errors, order=exc.order)
    if isinstance(exc, StockConflict):
        return 409, problem(409, "stock_conflict", detail, errors=errors)
    if isinstance(exc, Conflict):
        return 409, problem(409, "conflict", detail, errors=errors)
    if isinstance(exc, NotPermitted):
        return 403, problem(403, "permission_denied", detail, errors=errors)
    if isinstance(exc, NotFound):
        return 404, problem(404, "not_found", detail)
    code = "invalid_input" if isinstance(exc, InvalidInput) else "refused"
    return 400, problem(400, code, detail, errors=errors)


def _as_drf(exc: Exception) -> Exception:
    """Django's own exceptions as their DRF counterparts."""
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, Http404 | ObjectDoesNotExist):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    return exc


def problem_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's EXCEPTION_HANDLER: answer every known error as problem+json; anything else is a 500."""
    if isinstance(exc, DomainError):
        status_code, body = _domain_problem(exc)
        response = Response(body, status=status_code)
    else:
        exc = _as_drf(exc)
        response = drf_exception_handler(exc, context)  # sets WWW-Authenticate and Retry-After
        if response is None:
            return None
        detail = exc.detail
        if isinstance(exc, exceptions.ValidationError):
            body = problem(response.status_code, "invalid_input", "The request has invalid fields.")
            body["errors"] = flatten_errors(detail)
        else:
            body = problem(response.status_code, getattr(detail, "code", None) or "error", str(detail))
            if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
                body["retry_after"] = int(response.headers.get("Retry-After", 0))
        response.data = body
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception):
    """handler404: problem+json under /api/, Django's page elsewhere."""
    if not _is_api(request):
        return page_not_found(request, exception)
    body = problem(404, "not_found", "No such resource.")
    return JsonResponse(body, status=404, content_type=PROBLEM_CONTENT_TYPE)


def server_failed(request):
    """handler500: problem+json under /api/, Django's page elsewhere."""
    if not _is_api(request):
        return server_error(request)
    body = problem(500, "server_error", "Something went wrong on our side; it has been logged.")
    return JsonResponse(body, status=500, content_type=PROBLEM_CONTENT_TYPE)
