from celery import shared_task

from .deadline_reminders import fulfilments_remind_deadlines
from .pickups import pickups_expire, pickups_remind
from .routing.backorder_fill import backorders_sweep
from .store_ops import fulfilments_reroute_unaccepted


@shared_task
def remind_pickups() -> int:
    """Announce parcels waiting too long on the collection shelf (each once)."""
    return pickups_remind()


@shared_task
def expire_pickups() -> int:
    """Expire uncollected parcels: stock back on sale, lines cancelled, refund requested."""
    return pickups_expire()


@shared_task
def reroute_unaccepted_work() -> int:
    """Move store work not accepted by its deadline to another location (never warehouse work)."""
    return fulfilments_reroute_unaccepted()


@shared_task
def remind_deadlines() -> int:
    """Remind locations of accept and ready deadlines coming soon (each deadline once)."""
    return fulfilments_remind_deadlines()


@shared_task
def fill_backorders() -> int:
    """Allocate backorders a stock rise could not reach (the order was being changed; capacity was full)."""
    return backorders_sweep()
