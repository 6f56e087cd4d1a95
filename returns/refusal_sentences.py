"""Sentences for the returns services' refusals, for every staff page (``core.staff_messages``)."""

from __future__ import annotations

from core.staff_messages import field_sentence


@field_sentence(lambda field: field == "method", lambda text: text.startswith("One of"))
def _refund_method(text: str) -> str:
    return "Unknown refund method. Choose the original payment or store credit."
