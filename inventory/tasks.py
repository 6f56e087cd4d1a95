from celery import shared_task

from .services import holds_release_expired


@shared_task
def release_expired_holds() -> int:
    """Release checkout holds past their time-to-live (safe to run twice: closed holds are skipped)."""
    return holds_release_expired()
