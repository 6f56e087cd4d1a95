"""Reads of inbound supply: one document by its reference, what is still to come, a location's open documents."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from django.db.models import BooleanField, ExpressionWrapper, F, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from core.errors import NotFound

from .credentials import stock_write_refusal
from .models import InboundLine, InboundSupply, Location, LocationCredential


def inbound_get(*, reference: str, credential: LocationCredential | None = None) -> InboundSupply:
    """The supply document ``reference`` with its lines in SKU code order.

    A location system (``credential``) reads only its own locations' documents.
    """
    supply = (
        InboundSupply.objects.select_related("location")
        .prefetch_related(Prefetch("lines", InboundLine.objects.select_related("sku").order_by("sku__code")))
        .filter(reference=reference)
        .first()
    )
    if supply is None:
        raise NotFound(f"No inbound supply {reference!r}.")
    if credential is not None:
        stock_write_refusal(credential=credential, location_codes=[supply.location.code])
    return supply


def inbound_due(*, location: Location | None = None) -> QuerySet[InboundLine]:
    """Lines of open documents with units still to come, soonest first; ``due`` is how many.

    A received document has nothing left to come and a closed one never will, so only open
    documents count.
    """
    lines = (
        InboundLine.objects.filter(supply__status=InboundSupply.Status.OPEN, received__lt=F("quantity"))
        .annotate(due=F("quantity") - F("received"))
        .select_related("supply__location", "sku")
        .order_by("supply__expected_on", "supply__reference", "sku__code")
    )
    return lines if location is None else lines.filter(supply__location=location)


def inbound_open(*, location: Location, today: date | None = None) -> QuerySet[InboundSupply]:
    """The location's open documents, soonest first, each with all its lines in SKU code order.

    Each document carries ``overdue`` (expected before ``today``, by default the location's
    own calendar day) and each line ``due``, the units still to come (0 once in full). Lines
    already in full stay listed, so the people receiving see the whole delivery note.
    """
    today = today or timezone.localdate(timezone=ZoneInfo(location.timezone))
    lines = (
        InboundLine.objects.select_related("sku")
        .annotate(due=Greatest(F("quantity") - F("received"), Value(0)))
        .order_by("sku__code")
    )
    return (
        InboundSupply.objects.filter(location=location, status=InboundSupply.Status.OPEN)
        .annotate(overdue=ExpressionWrapper(Q(expected_on__lt=today), output_field=BooleanField()))
        .prefetch_related(Prefetch("lines", lines))
        .order_by("expected_on", "reference")
    )
