from celery import shared_task

from .services import pickups_expire, pickups_remind


@shared_task
def remind_pickups() -> int:
    """Announce parcels waiting too long on the collection shelf (each once)."""
    return pickups_remind()


@shared_task
def expire_pickups() -> int:
    """Expire uncollected parcels: stock back on sale, lines cancelled, refund requested."""
    return pickups_expire()
