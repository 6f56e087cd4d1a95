from django.apps import AppConfig


class FulfilmentConfig(AppConfig):
    name = "fulfilment"

    def ready(self) -> None:
        from oms.ports import register_order_router

        from .services import FulfilmentRouter

        register_order_router(FulfilmentRouter())
