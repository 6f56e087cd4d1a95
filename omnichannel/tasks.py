"""Celery finds tasks in each installed app's ``tasks`` module; the analytics jobs live in a sub-package."""

from omnichannel.analytics.tasks import rollup_analytics

__all__ = ["rollup_analytics"]
