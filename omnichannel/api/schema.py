"""OpenAPI additions: the problem+json error responses every operation may give."""

from __future__ import annotations

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


def _problem_response(description: str, status: str) -> dict:
    response = {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if status == "429":
        response["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}
    return response


def add_problem_responses(result, generator, request, public):
    """Spectacular post-processing hook: document the problem+json errors of every /api/v1 operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            errors = COMMON | (POST_ONLY if method == "post" else {})
            responses = operation.setdefault("responses", {})
            for status, description in errors.items():
                responses.setdefault(status, _problem_response(description, status))
            if method == "post":
                operation.setdefault("parameters", []).append(
                    {
                        "in": "header",
                        "name": "Idempotency-Key",
                        "required": False,
                        "schema": {"type": "string", "maxLength": 255},
                        "description": "A repeat with the same key and body returns the first response.",
                    }
                )
    return result
