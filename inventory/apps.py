from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"

    def ready(self) -> None:
        from . import refusal_sentences  # noqa: F401  (registers the staff pages' sentences for its refusals)
