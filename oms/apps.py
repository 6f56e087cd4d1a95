from django.apps import AppConfig


class OmsConfig(AppConfig):
    name = "oms"

    def ready(self) -> None:
        from . import refusal_sentences  # noqa: F401  (registers the staff pages' sentences for its refusals)
