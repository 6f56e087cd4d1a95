from celery import shared_task

from .services import orders_expire_unpaid, orders_release_due_holds


@shared_task
def expire_unpaid_orders() -> int:
    """Cancel orders whose payment never came within the unpaid window."""
    return orders_expire_unpaid()


@shared_task
def release_due_holds() -> int:
    """Lift timed holds whose time has come and route the orders."""
    return orders_release_due_holds()
