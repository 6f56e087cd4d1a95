"""Retention: personal data on finished orders is anonymised once ``OMS_PERSONAL_DATA_RETENTION_DAYS`` have passed.

An order is finished when delivered, collected or cancelled with no return or refund open;
its clock starts at the last thing that happened to it (its last activity). A person with
any order still open keeps everything until that order is finished too. When every order
of a person has been anonymised, their customer record is anonymised as well.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from oms.models import Customer, Order
from returns.models import RefundRequest, Return

from .erasure import FINISHED, Scrubber, customer_anonymise, orders_anonymise, orders_open, personal_values
from .export import customer_records

BATCH = 200


def _still_open() -> Q:
    """Orders in progress: not finished, or with a return or a refund request open."""
    return (
        ~Q(status__in=FINISHED)
        | Q(returns__status__in=Return.OPEN)
        | Q(returns__refund_requests__status=RefundRequest.Status.PENDING)
    )


def _due(cutoff: datetime):
    """Finished orders past the cutoff whose person has nothing open, so those who wait never hold up the rest."""
    waiting = Order.objects.filter(_still_open(), customer__isnull=False).values("customer_id")
    return (
        # Finished before the cutoff means created before it: the indexed column narrows the set first.
        Order.objects.filter(status__in=FINISHED, anonymised_at__isnull=True, created_at__lt=cutoff)
        .exclude(customer_id__in=waiting)
        .exclude(pk__in=Order.objects.filter(_still_open()).values("pk"))
        .annotate(last=Coalesce(Max("activities__at"), "created_at"))
        .filter(last__lt=cutoff)
    )


@transaction.atomic
def _anonymise_person(customer_id: int | None, order_ids: list[int], now: datetime) -> int:
    """One person's due orders in one transaction; nothing while any of their orders is open."""
    if customer_id is None:
        orders = list(Order.objects.select_for_update().filter(pk__in=order_ids, anonymised_at__isnull=True))
        busy = orders_open(orders)
        due = [o for o in orders if o not in busy]
        return orders_anonymise(orders=due, scrub=Scrubber(personal_values(customers=[], orders=due)), now=now)
    customer = Customer.objects.select_for_update().get(pk=customer_id)
    everything = list(Order.objects.select_for_update().filter(customer=customer))
    if orders_open(everything):
        return 0
    due = [o for o in everything if o.pk in order_ids and o.anonymised_at is None]
    records = customer_records(customer=customer)
    done = orders_anonymise(orders=due, scrub=Scrubber(personal_values(customers=records, orders=due)), now=now)
    if all(o.anonymised_at is not None or o in due for o in everything) and customer.erased_at is None:
        customer_anonymise(records=records, now=now)
    return done


def orders_anonymise_expired(*, now: datetime | None = None, limit: int = BATCH) -> int:
    """Anonymise the personal data of orders finished longer ago than the retention period; safe to run twice.

    Returns the number of orders anonymised. People with an open order are skipped until it finishes.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.OMS_PERSONAL_DATA_RETENTION_DAYS)
    people: dict[int | None, list[int]] = {}
    for pk, customer_id in _due(cutoff).order_by("pk").values_list("pk", "customer_id")[:limit]:
        people.setdefault(customer_id, []).append(pk)
    return sum(_anonymise_person(customer_id, ids, now) for customer_id, ids in people.items())
