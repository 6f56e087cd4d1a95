from django.apps import AppConfig


class FulfilmentConfig(AppConfig):
    name = "fulfilment"

    def ready(self) -> None:
        from inventory.ports import register_supply_listener
        from oms.ports import register_order_router

        from . import (
            refusal_sentences,  # noqa: F401  (registers the staff pages' sentences for these refusals)
            store_hours,  # noqa: F401  (its signals forget the cached store calendar on change)
        )
        from .routing.placement import FulfilmentRouter
        from .supply import FulfilmentSupplyListener

        register_order_router(FulfilmentRouter())
        register_supply_listener(FulfilmentSupplyListener())
