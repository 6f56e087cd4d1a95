"""A request id on every request, its response and every log line written while it is handled.

A load balancer's ``X-Request-ID`` is kept when it looks like an id (so one id follows the
request across hosts); otherwise a new one is made. Logs carry it as ``request_id``, so a
JSON log line can be joined with the access log and the answer the caller saw.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

_request_id: ContextVar[str] = ContextVar("request_id", default="")
_WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _WELL_FORMED.fullmatch(given) else uuid.uuid4().hex
        request.request_id = request_id
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Give every log record the id of the request being handled ("" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs a 4xx/5xx answer after the middleware has returned, with the request attached.
        record.request_id = getattr(getattr(record, "request", None), "request_id", "") or _request_id.get()
        return True
