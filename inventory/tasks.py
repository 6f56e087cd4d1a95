from celery import shared_task

from .ledger import ledger_checkpoint
from .reservations import holds_release_expired


@shared_task
def release_expired_holds() -> int:
    """Release checkout holds past their time-to-live (safe to run twice: closed holds are skipped)."""
    return holds_release_expired()


@shared_task
def checkpoint_ledger() -> int:
    """Sum settled stock movements into the ledger balances; return how many (safe to run twice)."""
    checkpoint = ledger_checkpoint()
    return checkpoint.movements if checkpoint else 0
