from celery import shared_task

from .availability import availability_publish
from .services import idempotency_keys_expire, orders_expire_unpaid, orders_release_due_holds


@shared_task
def expire_unpaid_orders() -> int:
    """Cancel orders whose payment never came within the unpaid window."""
    return orders_expire_unpaid()


@shared_task
def release_due_holds() -> int:
    """Lift timed holds whose time has come and route the orders."""
    return orders_release_due_holds()


@shared_task
def expire_idempotency_keys() -> int:
    """Forget API first responses past their time-to-live."""
    return idempotency_keys_expire()


@shared_task
def publish_availability() -> int:
    """Tell channels whose network ATP of a SKU changed since the last run."""
    return availability_publish()
