"""Admin pieces every app's admin shares: change history in words, shared inline choices, read-only pages.

A leaf module (it imports Django only), like `leadops/errors.py`: the reps, routing and lead
admins import it, and no app's admin imports another app's admin module. Hooks that run on
every admin save (the routing versions, for one) belong on `ChangeHistoryMixin` here.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import QuerySet


class SharedChoicesInlineMixin:
    """Inline rows share one list of choices per request, so a long inline is not a query per row."""

    shared_choice_fields: tuple[str, ...] = ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name in self.shared_choice_fields and formfield is not None:
            cache = request.__dict__.setdefault("_shared_inline_choices", {})
            key = (self.model._meta.label, db_field.name)
            if key not in cache:
                cache[key] = list(formfield.choices)
            formfield.choices = cache[key]
        return formfield


def shown(value) -> str:
    """A field value as the change history shows it."""
    if value is None or value == "":
        return "empty"
    if isinstance(value, (list, tuple, QuerySet)):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


class ChangeHistoryMixin:
    """The object's history says what changed from what ("Capacity: 40 → 25"), not only which field."""

    def construct_change_message(self, request, form, formsets, add=False):
        message = super().construct_change_message(request, form, formsets, add)
        if add or not form.changed_data:
            return message
        details = []
        for name in form.changed_data:
            field = form.fields[name]
            old = form.initial.get(name)
            if isinstance(field, forms.ModelChoiceField) and not isinstance(field, forms.ModelMultipleChoiceField):
                old = field.queryset.filter(pk=old).first() if old is not None else None
            details.append(f"{field.label or name}: {shown(old)} → {shown(form.cleaned_data.get(name))}")
        for entry in message:
            if "changed" in entry and "name" not in entry["changed"]:
                entry["changed"]["fields"] = details
        return message


class ReadOnlyAdmin(admin.ModelAdmin):
    """Audit and engine state: ops look, the engine writes."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
