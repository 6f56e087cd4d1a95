"""Celery finds tasks in each installed app's ``tasks`` module; the analytics jobs live in a sub-package."""

from omnichannel.analytics.tasks import rollup_analytics
from omnichannel.privacy.tasks import anonymise_finished_orders

__all__ = ["anonymise_finished_orders", "rollup_analytics"]
