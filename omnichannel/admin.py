"""Django's admin autodiscovery imports each app's ``admin`` module; the analytics admin lives in a sub-package."""

from omnichannel.analytics import admin  # noqa: F401
