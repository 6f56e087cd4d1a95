"""Every text and JSON column of the project's models is classified as personal data or not."""

from django.apps import apps
from django.db import models

from omnichannel.privacy.fields import NOT_PERSONAL, PERSONAL_FIELDS, PROJECT_APPS

TEXTUAL = (models.CharField, models.TextField, models.JSONField, models.EmailField)


def _textual_fields() -> set[str]:
    return {
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        if model._meta.app_label in PROJECT_APPS and not model._meta.proxy  # a proxy's columns are its model's
        for field in model._meta.concrete_fields
        if isinstance(field, TEXTUAL)
    }


def test_every_text_and_json_field_is_in_exactly_one_register():
    fields = _textual_fields()
    unclassified = sorted(fields - PERSONAL_FIELDS.keys() - NOT_PERSONAL.keys())
    assert not unclassified, f"Say whether these may hold personal data (omnichannel/privacy/fields.py): {unclassified}"
    assert not PERSONAL_FIELDS.keys() & NOT_PERSONAL.keys()
    assert not (PERSONAL_FIELDS.keys() | NOT_PERSONAL.keys()) - fields, "the registers name fields that do not exist"
