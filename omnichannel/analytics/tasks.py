from celery import shared_task

from .services import analytics_rollup


@shared_task
def rollup_analytics() -> int:
    """Bring the analytics roll-ups up to date; returns the number of days recomputed."""
    return analytics_rollup().days
