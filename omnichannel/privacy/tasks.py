from celery import shared_task

from .retention import orders_anonymise_expired


@shared_task
def anonymise_finished_orders() -> int:
    """Anonymise personal data on orders finished longer ago than the retention period."""
    return orders_anonymise_expired()
