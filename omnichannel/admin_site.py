"""The Django admin site, made safe against hostile input for every model registered on it.

Django's admin turns some malformed POSTs into server errors: a row id that is not a
number in a change list's action checkboxes, a non-numeric or out-of-range id in an
autocomplete or multiple-choice field, an empty JSON field. The site below wraps every
ModelAdmin registered on it (ours, ``auth``'s and any library's) with ``SafeInputAdmin``,
so the rule lives in one place and a new admin cannot forget it.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpResponseRedirect

# Wider than any primary key column here (bigint); a larger "id" names no row.
_MAX_ID = 2**63 - 1


def valid_key(field: models.Field, value) -> bool:
    """Tell whether ``value`` could be a stored value of ``field`` (a primary or "to" key)."""
    try:
        python_value = field.to_python(value)
    except (ValidationError, TypeError, ValueError):
        return False
    if isinstance(python_value, int):
        return -_MAX_ID <= python_value <= _MAX_ID
    return python_value is not None


def _to_field(model_field: models.Field) -> models.Field:
    remote = model_field.remote_field
    return remote.model._meta.get_field(getattr(remote, "field_name", None) or remote.model._meta.pk.name)


class _KeyGuard:
    """Render only the selected values that could be keys; the form's own validation reports the rest."""

    def optgroups(self, name, value, attr=None):
        to_field = _to_field(self.field)
        return super().optgroups(name, [v for v in value if valid_key(to_field, v)], attr)


class SafeAutocompleteSelect(_KeyGuard, AutocompleteSelect):
    pass


class SafeAutocompleteSelectMultiple(_KeyGuard, AutocompleteSelectMultiple):
    pass


class SafeModelChoiceField(forms.ModelChoiceField):
    def to_python(self, value):
        if value not in self.empty_values and not valid_key(self._key_field(), value):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)

    def _key_field(self):
        meta = self.queryset.model._meta
        return meta.get_field(self.to_field_name) if self.to_field_name else meta.pk


class SafeModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    def _check_values(self, value):
        meta = self.queryset.model._meta
        key_field = meta.get_field(self.to_field_name) if self.to_field_name else meta.pk
        for key in value:
            if not valid_key(key_field, key):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": key}
                )
        return super()._check_values(value)


class JSONOrDefaultField(forms.JSONField):
    """An emptied JSON box means "nothing", which a NOT NULL column stores as its default."""

    def __init__(self, *, column_default=None, **kwargs):
        self.column_default = column_default
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return self.column_default
        return super().to_python(value)


class SafeInputAdmin(admin.ModelAdmin):
    """Refuse malformed ids and empty JSON with a message instead of a server error."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        kwargs.setdefault("form_class", SafeModelChoiceField)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelectMultiple(db_field, self.admin_site, using=kwargs.get("using"))
        kwargs.setdefault("form_class", SafeModelMultipleChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.JSONField) and not db_field.null:
            kwargs.setdefault("form_class", JSONOrDefaultField)
            kwargs.setdefault("column_default", db_field.get_default())
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def changelist_view(self, request, extra_context=None):
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME) if request.method == "POST" else []
        if any(not valid_key(self.model._meta.pk, key) for key in selected):
            self.message_user(request, "Those rows do not exist any more; nothing was changed.", messages.WARNING)
            return HttpResponseRedirect(request.get_full_path())
        return super().changelist_view(request, extra_context)


class OmsAdminSite(admin.AdminSite):
    site_header = "Omnichannel OMS administration"

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, SafeInputAdmin):
            namespace = {"__module__": admin_class.__module__}
            admin_class = type(admin_class.__name__, (SafeInputAdmin, admin_class), namespace)
        super().register(model_or_iterable, admin_class, **options)
