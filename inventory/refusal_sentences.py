"""Sentences for the inventory services' refusals, for every staff page (``core.staff_messages``).

Registered when the app is ready: a shortfall names the products and stores, a stock
conflict drops its API prefix, and the stock and delivery fields read in plain words.
"""

from __future__ import annotations

import re

from core.staff_messages import describes, field_sentence, field_words

from .exceptions import InsufficientStock, StockConflict
from .models import Location, Sku

field_words({"delta": "change", "counted": "count"})


def _units(n: int) -> str:
    return f"{n} unit" if n == 1 else f"{n} units"


@describes(InsufficientStock)
def _insufficient_stock(error: InsufficientStock) -> str:
    codes = {s.sku for s in error.shortfalls}
    names = dict(Sku.objects.filter(code__in=codes).values_list("code", "name"))
    places = {s.location for s in error.shortfalls if s.location}
    stores = dict(Location.objects.filter(code__in=places).values_list("code", "name")) if places else {}
    sentences = []
    for s in error.shortfalls:
        what = names.get(s.sku, s.sku)
        where = f"at {stores.get(s.location, s.location)}" if s.location else "across the network"
        if s.available <= 0:
            sentences.append(f"No units of {what} are available {where} ({s.requested} wanted).")
        else:
            sentences.append(f"Only {s.available} of {_units(s.requested)} of {what} are available {where}.")
    return " ".join(sentences)


@describes(StockConflict)
def _stock_conflict(error: StockConflict) -> str:
    # "SKU-1@ST-SOHO: counted 2 but 3 are reserved; …" — the store and SKU are on the page already.
    text = re.sub(r"^\S+@\S+:\s*", "", error.message)
    details = [t for texts in error.errors.values() for t in texts if t.rstrip(".").lower() not in text.lower()]
    return " ".join([text[:1].upper() + text[1:], *details])


@field_sentence(lambda field: field == "delta", lambda text: text == "Must not be zero.")
def _zero_change(text: str) -> str:
    return "Must not be zero. Enter how many units to add, or take out with a minus sign (e.g. -2)."


@field_sentence(lambda field: field.endswith(".sku"), lambda text: " is not on inbound supply " in text)
def _not_on_delivery(text: str) -> str:
    return re.sub(
        r"^SKU (.+) is not on inbound supply (.+)\.$",
        r"SKU \1 is not on delivery \2. Check the delivery note: it may belong to another delivery.",
        text,
    )


@field_sentence(lambda field: field == "reference", lambda text: text.startswith("Closed: nothing more is received"))
def _delivery_closed(text: str) -> str:
    return "This delivery is closed: nothing more can be received against it."
