"""OpenAPI additions: the problem+json errors, the Idempotency-Key rules and each operation's refusals."""

from __future__ import annotations

from django.conf import settings

from .idempotency import HEADER, KEY_PATTERN, MAX_KEY_LENGTH

PROBLEM = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "errors"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Field (e.g. `lines[0].sku`) → messages.",
        },
        "shortfall": {
            "type": "array",
            "description": "Insufficient stock: per line sku, requested, available and alternatives.",
            "items": {"type": "object", "additionalProperties": True},
        },
        "allowed": {
            "type": "array",
            "items": {"type": "string"},
            "description": "A refused transition: the actions allowed now.",
        },
        "current": {"type": "string"},
        "order": {
            "type": "integer",
            "description": "A repeated external_id with a different body: the order it names.",
        },
        "retry_after": {"type": "integer"},
    },
}

COMMON = {
    "400": "Invalid input: `errors` names the fields.",
    "401": "No token, or an invalid or revoked one.",
    "403": "The caller may not use this operation.",
    "404": "Not found, or another channel's.",
    "406": "Only application/json responses are offered.",
    "429": "Too many requests for this token; see Retry-After.",
}
POST_ONLY = {
    "409": "The current state of stock, the order or the return does not allow it.",
    "413": "The request body is too large.",
    "415": "Unsupported content type.",
    "422": "The Idempotency-Key was already used with a different request.",
}
_PARSE = " The body must be JSON nested at most 32 deep, with no unpaired surrogate (\\ud800-\\udfff) in a string."
_TRANSITION = (
    "The action is not allowed in the fulfilment's current state (`transition-not-allowed`): "
    "`current` names the state and `allowed` the actions allowed now."
)
# What each operation refuses beyond the shape of its fields; None: the operation never answers it.
REFUSALS: dict[str, dict[str, str | None]] = {
    "availability": {"400": "Invalid input, an unknown SKU, or a country not in ISO 3166-1 alpha-2.", "409": None},
    "orders_create": {
        "400": "Invalid input (`invalid-input`): an unknown SKU or pickup store, a currency not in ISO 4217, "
        "a country not in ISO 3166-1 alpha-2, coordinates off the globe, or authorised or paid `tenders` "
        "that do not add up to the order total (the detail names both amounts).",
        "409": "Not enough stock (`insufficient-stock`, with `shortfall` per line; nothing is reserved), or the "
        "external_id names an order placed with a different body (`external-id-conflict`: `errors` names the "
        "fields that differ, `order` the order's id).",
    },
    "orders_cancel_create": {
        "400": "Invalid input, or lines not open on the order.",
        "409": "The order is already dispatched (`transition-not-allowed`).",
    },
    "orders_address_create": {
        "400": "Invalid input: a country not in ISO 3166-1 alpha-2, coordinates off the globe, an order collected "
        "rather than delivered, or one already dispatched or past its change window.",
    },
    "returns_create": {
        "409": "The return breaks a return rule (`return-not-allowed`): a SKU not on the order or sold as final "
        "sale, past the return window, or more than was dispatched and not yet returned; `errors` names the lines.",
    },
    "returns_receive_create": {
        "400": "Invalid input, or a location that does not accept returns.",
        "409": "More received than was sold and not yet returned (`return-not-allowed`), or the return was "
        "already received (`transition-not-allowed`).",
    },
    "stock_feeds_create": {
        "400": "Invalid input, an unreadable CSV file, or an empty or unknown `?mode=`; rows that cannot apply "
        "are reported in the 200 answer instead.",
        "409": None,
    },
    **{
        f"fulfilments_{action}_create": {"409": _TRANSITION}
        for action in ("accept", "decline", "pick", "pack", "ship", "ready", "collect")
    },
}
IDEMPOTENCY_KEY = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH, "pattern": KEY_PATTERN},
    "description": (
        f"Printable ASCII, at most {MAX_KEY_LENGTH} characters, scoped to the calling channel (staff sessions "
        "run without). The first successful (2xx) response is stored with a hash of method, path and body; a "
        "repeat with the same key and body gets it again with `Idempotent-Replayed: true` and changes nothing. "
        "The same key with a different request is a 422. A failed request stores nothing, so a retry runs "
        f"again. Keys are forgotten after {settings.OMS_IDEMPOTENCY_TTL_HOURS:g} hours. Empty: no key."
    ),
}
REPLAYED = {
    "Idempotent-Replayed": {
        "schema": {"type": "string", "enum": ["true"]},
        "description": "Present on a replay of the first response to this Idempotency-Key.",
    }
}


def _problem_response(description: str, status: str) -> dict:
    response = {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if status == "429":
        response["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}
    return response


def add_problem_responses(result, generator, request, public):
    """Spectacular post-processing hook: document the errors, refusals and idempotency of every /api/v1 operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            errors = COMMON | (POST_ONLY if method == "post" else {})
            errors |= REFUSALS.get(operation.get("operationId"), {})
            if method == "post":
                errors["400"] = (errors["400"] or COMMON["400"]) + _PARSE
            responses = operation.setdefault("responses", {})
            for status, description in errors.items():
                if description is not None:
                    responses.setdefault(status, _problem_response(description, status))
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and parameter["schema"].get("type") == "string":
                    parameter["schema"].setdefault("minLength", 1)  # an empty parameter is a 400
            if method == "post":
                operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
                for status, response in responses.items():
                    if status.startswith("2"):
                        response.setdefault("headers", {}).update(REPLAYED)
    return result
