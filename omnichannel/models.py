"""The project package's own tables: the analytics roll-ups (defined in ``omnichannel.analytics``)."""

from omnichannel.analytics.models import DailyChannelRollup, DailyReturnRollup, DailyStockRollup, RollupRun

__all__ = ["DailyChannelRollup", "DailyReturnRollup", "DailyStockRollup", "RollupRun"]
