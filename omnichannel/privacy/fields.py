"""Every text and JSON column of the project's models, classified: personal data or not.

A test walks the models and fails when a column is in neither register (or in both), so a
new field that could hold a person's data cannot be added without deciding what erasure
and retention do with it. ``PERSONAL_FIELDS`` says how each personal column is anonymised:

* ``cleared``  — the value is replaced outright (identifiers, names, addresses, note texts);
* ``scrubbed`` — free text or JSON kept for its meaning, with the person's identifiers,
  name and address lines cut out wherever they appear (reasons, event payloads, stored
  API responses).
"""

from __future__ import annotations

CLEARED, SCRUBBED = "cleared", "scrubbed"

PERSONAL_FIELDS: dict[str, str] = {
    "oms.Customer.email": CLEARED,
    "oms.Customer.phone": CLEARED,
    "oms.Customer.member_number": CLEARED,
    "oms.Customer.name": CLEARED,
    "oms.Customer.name_search": CLEARED,
    "oms.Order.address": CLEARED,
    "oms.Note.text": CLEARED,
    "oms.Order.routing": SCRUBBED,
    "oms.Activity.reason": SCRUBBED,
    "oms.OutboxEvent.data": SCRUBBED,
    "oms.IdempotencyKey.body": SCRUBBED,
    "returns.RefundRequest.reason": SCRUBBED,
    "returns.RefundRequest.decision_note": SCRUBBED,
    "returns.ReturnException.note": SCRUBBED,
}

# Why each of these holds no personal data of a customer.
_CODES = "a code, status or choice set by the system"
_CATALOGUE = "catalogue, network or channel set-up, not about a person"
_STORE_OPS = "why a store closed, paused or must count: about the store's work, not a customer"
_SECRET = "a credential's digest, prefix or name: staff and systems, not customers"
NOT_PERSONAL: dict[str, str] = {
    "inventory.Sku.code": _CATALOGUE,
    "inventory.Sku.name": _CATALOGUE,
    "inventory.Sku.category": _CATALOGUE,
    "inventory.Sku.attributes": _CATALOGUE,
    "inventory.Barcode.code": _CATALOGUE,
    "inventory.Location.code": _CATALOGUE,
    "inventory.Location.name": _CATALOGUE,
    "inventory.Location.kind": _CODES,
    "inventory.Location.address": "a store's or warehouse's own address",
    "inventory.Location.city": "a store's or warehouse's own address",
    "inventory.Location.postcode": "a store's or warehouse's own address",
    "inventory.Location.country": _CATALOGUE,
    "inventory.Location.timezone": _CATALOGUE,
    "inventory.Channel.code": _CATALOGUE,
    "inventory.Channel.name": _CATALOGUE,
    "inventory.Channel.kind": _CODES,
    "inventory.SkuAlias.code": _CATALOGUE,
    "inventory.Reservation.owner_ref": "an internal reference such as order:<id>",
    "inventory.Reservation.status": _CODES,
    "inventory.Transfer.reference": "a stock transfer's reference",
    "inventory.Transfer.status": _CODES,
    "inventory.Transfer.owner_ref": "an internal reference such as order:<id>",
    "inventory.Transfer.supplies_ref": "an internal reference such as fulfilment:<id>",
    "inventory.Transfer.carrier": "a carrier's name between two of the network's locations",
    "inventory.Transfer.tracking": "a parcel number between two of the network's locations",
    "inventory.InboundSupply.reference": "a supplier's purchase order or shipping notice number",
    "inventory.InboundSupply.status": _CODES,
    "inventory.LocationCredential.name": _SECRET,
    "inventory.LocationCredential.prefix": _SECRET,
    "inventory.LocationCredential.digest": _SECRET,
    "inventory.StockMovement.kind": _CODES,
    "inventory.StockMovement.reason": "a stock movement's reason code",
    "inventory.StockMovement.reference": "an internal reference such as order:<id>",
    "oms.ApiToken.name": _SECRET,
    "oms.ApiToken.prefix": _SECRET,
    "oms.ApiToken.digest": _SECRET,
    "oms.StaffProfile.role": _CODES,
    "oms.PossibleDuplicate.reason": "names which identifiers matched (e-mail, phone), never their values",
    "oms.Order.number": "the order number, kept for the books",
    "oms.Order.external_id": "the channel's order reference, kept for the books",
    "oms.Order.status": _CODES,
    "oms.Order.hold_reason": _CODES,
    "oms.Order.currency": _CODES,
    "oms.Order.payment_status": _CODES,
    "oms.Order.tenders": "tender types, amounts and payment-provider references, kept for refunds and the books",
    "oms.Order.method": _CODES,
    "oms.Order.when_short": _CODES,
    "oms.Activity.subject": _CODES,
    "oms.Activity.action": _CODES,
    "oms.Activity.from_state": _CODES,
    "oms.Activity.to_state": _CODES,
    "oms.OutboxEvent.type": _CODES,
    "oms.IdempotencyKey.key": "a key the channel's system generated",
    "oms.IdempotencyKey.request_hash": "a hash of the request",
    "oms.WebhookEndpoint.url": _CATALOGUE,
    "oms.WebhookEndpoint.secret": _SECRET,
    "oms.WebhookEndpoint.event_types": _CODES,
    "oms.WebhookDelivery.status": _CODES,
    "oms.WebhookAttempt.error": "the receiver's HTTP status or connection error; the log holds no request body",
    "oms.JobCursor.name": _CODES,
    "oms.CustomerAccess.action": _CODES,
    "oms.CustomerAccess.reason": "why staff erased a record; the person's identifiers are cut out when it is written",
    "fulfilment.ClosedDay.reason": _STORE_OPS,
    "fulfilment.StorePause.reason": _STORE_OPS,
    "inventory.CountFlag.reason": _STORE_OPS,
    "inventory.CountFlag.reference": "the till sale's or count's reference, not a person's",
    "fulfilment.RoutingPolicyVersion.data": _CATALOGUE,
    "fulfilment.RoutingPolicyVersion.note": _CATALOGUE,
    "fulfilment.ShippingCost.zone": "a destination country or postcode area, never an address",
    "fulfilment.Fulfilment.method": _CODES,
    "fulfilment.Fulfilment.status": _CODES,
    "fulfilment.Fulfilment.pickup_code": "a one-time collection code",
    "fulfilment.Fulfilment.carrier": _CODES,
    "fulfilment.Fulfilment.tracking": "the carrier's parcel number, kept for carrier claims",
    "fulfilment.Fulfilment.decline_reason": _CODES,
    "returns.ReturnReason.code": _CATALOGUE,
    "returns.ReturnReason.label": _CATALOGUE,
    "returns.ReturnPolicy.category": _CATALOGUE,
    "returns.Return.reference": "the return's reference, kept for the books",
    "returns.Return.status": _CODES,
    "returns.Return.refund_method": _CODES,
    "returns.Refund.goodwill_reason": _CODES,
    "returns.RefundRequest.goodwill_reason": _CODES,
    "returns.ReturnException.sku_code": _CATALOGUE,
    "returns.ReturnException.kind": _CODES,
    "returns.Refund.currency": _CODES,
    "returns.Refund.method": _CODES,
    "returns.Refund.allocations": "tender types, amounts and payment-provider references, kept for the books",
    "returns.RefundRequest.currency": _CODES,
    "returns.RefundRequest.method": _CODES,
    "returns.RefundRequest.allocations": "tender types, amounts and payment-provider references, kept for the books",
    "returns.RefundRequest.status": _CODES,
}

# The apps whose models the registers cover (Django's and third parties' are out of scope).
PROJECT_APPS = ("inventory", "oms", "fulfilment", "returns", "omnichannel")
