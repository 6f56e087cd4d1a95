"""The one address rule: what a delivery address must hold, where it is, and when it may change.

Order intake (API and endless aisle) and every address change (back office and API) run
these, so an address refused in one place is refused in all of them, in the same words.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from core.errors import InvalidInput

from .geo import coordinates_for
from .models import Order

REQUIRED = ("line1", "city", "postcode", "country")


def delivery_address(address: dict | None, *, field: str = "fulfilment.address") -> tuple[dict, float, float]:
    """Check a delivery address and place it: the address without coordinates, its latitude and longitude.

    Coordinates sent with the address (a channel that geocodes its own addresses) are used
    as sent. Otherwise the postcode must be one the places table knows, by district or by
    area; the town never stands in for an unknown postcode. ``field`` prefixes the field
    names in the errors, as the caller's input names them.
    """
    address = dict(address or {})
    missing = [f for f in REQUIRED if not str(address.get(f, "")).strip()]
    if missing:
        raise InvalidInput(
            "The delivery address is incomplete.", errors={f"{field}.{f}": ["Required."] for f in missing}
        )
    lat, lon = address.pop("lat", None), address.pop("lon", None)
    if lat is None or lon is None:
        postcode, country = str(address["postcode"]).strip().upper(), str(address["country"]).strip().upper()
        point = coordinates_for(postcode=postcode, country=country)
        if point is None:
            raise InvalidInput(
                f"The postcode {postcode} is not a known {country} postcode. Check it with the customer.",
                errors={f"{field}.postcode": [f"Not a known {country} postcode."]},
            )
        lat, lon = point
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        lat = lon = float("nan")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInput("Coordinates out of range.", errors={f"{field}.lat": ["Out of range."]})
    return address, lat, lon


S = Order.Status
# Why the address of an order in each of these states can no longer change, said plainly.
_TOO_LATE = {
    S.CANCELLED: ("is cancelled: there is nothing left to deliver.", "The order is cancelled."),
    S.SHIPPED: (
        "has been shipped to the current address; ask the carrier to redirect the parcel.",
        "Already shipped.",
    ),
    S.PARTIALLY_SHIPPED: (
        "is partly on its way to the current address; the rest goes to the same address.",
        "Partly shipped.",
    ),
    S.COMPLETED: ("has been delivered or collected.", "Already completed."),
}


def address_change_refusal(order: Order) -> InvalidInput | None:
    """Why the order's delivery address cannot change now, or None when it can."""
    if order.method != Order.Method.DELIVERY:
        return InvalidInput(
            f"Order {order.number} is collected in store; it has no delivery address.",
            errors={"address": ["Not a delivery order."]},
        )
    if order.status in _TOO_LATE:
        message, short = _TOO_LATE[order.status]
        return InvalidInput(f"Order {order.number} {message}", errors={"address": [short]})
    if order.status not in Order.BEFORE_DISPATCH:
        return InvalidInput(f"Order {order.number} is {order.status}.", errors={"address": ["Cannot change now."]})
    window = timedelta(hours=settings.OMS_ADDRESS_CHANGE_WINDOW_HOURS)
    if timezone.now() - order.created_at > window:
        hours = settings.OMS_ADDRESS_CHANGE_WINDOW_HOURS
        return InvalidInput(
            f"The address can no longer be changed: orders take address changes for {hours:g} hours after placing.",
            errors={"address": ["Change window has closed."]},
        )
    return None
