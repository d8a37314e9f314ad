"""The rule condition editor in ops language: no JSON typed anywhere.

The field is a choice of the lead facts (or a custom `extra.<key>`), the operator a choice in
words, and the value a widget that fits the operator: text; a comma-separated list for `in`,
`not in`, `starts with` and `email domain in`; a number; two numbers for `between`; a territory
for `in territory`; nothing for `is empty`. The form turns the widgets into the stored value and
the model's `validate_condition` (the one `load_routing` uses) judges it, so both say the same.
A small script (static/routing/condition_editor.js) shows only the value input and the operators
that fit; without it every input shows and the form still reads the one the operator needs.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.functional import cached_property

from routing.engine.vocabulary import LEAD_FACT_LABELS, NUMBER_FACTS
from routing.models import Operator, RuleCondition

EXTRA = "extra"
PLACE_FACTS = {"country", "region", "postal_code"}
EMAIL_FACTS = {"email", "email_domain"}
TEXT_OPS = ["equals", "not_equals", "in", "not_in", "contains", "starts_with", "is_empty"]
NUMBER_OPS = ["equals", "not_equals", "in", "not_in", "gte", "lte", "between", "is_empty"]
# Which value input each operator needs.
VALUE_KIND = {
    "equals": "text",
    "not_equals": "text",
    "contains": "text",
    "in": "list",
    "not_in": "list",
    "starts_with": "list",
    "email_domain_in": "list",
    "gte": "number",
    "lte": "number",
    "between": "between",
    "in_territory": "territory",
    "is_empty": "none",
}
VALUE_PARTS = ("text", "list", "number", "low", "high", "territory")


def operators_for(fact: str) -> list[str]:
    """The operators that make sense on a fact (the editor offers only these)."""
    if fact in NUMBER_FACTS:
        return NUMBER_OPS
    ops = list(TEXT_OPS)
    if fact in PLACE_FACTS:
        ops.append("in_territory")
    if fact in EMAIL_FACTS:
        ops.append("email_domain_in")
    if fact == EXTRA:
        ops = TEXT_OPS + ["gte", "lte", "between"]
    return ops


FACT_CHOICES = [("", "— lead fact —"), *LEAD_FACT_LABELS.items()]
FACT_CHOICES.append((EXTRA, "custom value (extra) …"))


class FactWidget(forms.MultiWidget):
    def __init__(self, attrs=None):
        ops = {fact: operators_for(fact) for fact, _ in FACT_CHOICES if fact}
        select = forms.Select(choices=FACT_CHOICES, attrs={"data-ops": json.dumps(ops), "class": "condition-fact"})
        key = forms.TextInput(attrs={"placeholder": "key, e.g. plan", "class": "condition-extra-key", "size": 10})
        super().__init__([select, key], attrs)

    def decompress(self, value):
        if value and value.startswith("extra."):
            return [EXTRA, value[len("extra.") :]]
        return [value or "", ""]


class FactField(forms.MultiValueField):
    widget = FactWidget

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Lead fact")
        fields = (forms.ChoiceField(choices=FACT_CHOICES, required=False), forms.CharField(required=False))
        super().__init__(fields, require_all_fields=False, **kwargs)

    def compress(self, data_list):
        if not data_list:
            return ""
        fact, key = data_list[0], (data_list[1] or "").strip()
        return f"extra.{key}" if fact == EXTRA else fact


class _Parts(list):
    """The value inputs as posted (not a stored list value, which is decompressed first)."""


class ValueWidget(forms.MultiWidget):
    def __init__(self, attrs=None):
        widgets = [
            forms.TextInput(attrs={"data-kind": "text", "placeholder": "value", "size": 14}),
            forms.TextInput(attrs={"data-kind": "list", "placeholder": "values, separated by commas", "size": 22}),
            forms.NumberInput(attrs={"data-kind": "number", "placeholder": "number", "step": "any"}),
            forms.NumberInput(attrs={"data-kind": "between", "placeholder": "from", "step": "any"}),
            forms.NumberInput(attrs={"data-kind": "between", "placeholder": "to", "step": "any"}),
            forms.Select(attrs={"data-kind": "territory"}),
        ]
        super().__init__(widgets, attrs)

    def value_from_datadict(self, data, files, name):
        return _Parts(super().value_from_datadict(data, files, name))

    def decompress(self, value):
        """Put a stored value in every input it could belong to; the operator picks one."""
        parts = dict.fromkeys(VALUE_PARTS)
        if isinstance(value, list):
            parts["list"] = ", ".join(str(v) for v in value)
            if len(value) == 2:
                parts["low"], parts["high"] = value
        elif isinstance(value, bool) or value is None:
            pass
        elif isinstance(value, (int, float)):
            parts["number"], parts["text"] = value, str(value)
        else:
            parts["text"], parts["list"], parts["territory"] = value, value, value
        return [parts[name] for name in VALUE_PARTS]


class ValueField(forms.MultiValueField):
    """The raw inputs; RuleConditionForm.clean turns the one the operator needs into the stored value."""

    widget = ValueWidget

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Value")
        fields = [forms.CharField(required=False, strip=True) for _ in VALUE_PARTS]
        super().__init__(fields, require_all_fields=False, required=False, **kwargs)

    def prepare_value(self, value):
        return list(value) if isinstance(value, _Parts) else self.widget.decompress(value)

    def compress(self, data_list):
        return dict(zip(VALUE_PARTS, data_list or [None] * len(VALUE_PARTS), strict=True))


def _number(text):
    if text in (None, ""):
        return None
    try:
        number = Decimal(str(text).strip())
    except InvalidOperation:
        return str(text)  # validate_condition says it needs a number
    return int(number) if number == number.to_integral_value() else float(number)


def _split(text) -> list[str]:
    return [part.strip() for part in str(text or "").replace("\n", ",").split(",") if part.strip()]


def condition_value(op: str, raw: dict):
    """The stored value for an operator, from the editor's inputs."""
    kind = VALUE_KIND.get(op)
    if kind == "none":
        return None
    if kind == "list":
        values = _split(raw.get("list"))
        if not values:
            return None  # validate_condition says the operator needs a list
        return values[0] if op == "starts_with" and len(values) == 1 else values
    if kind == "number":
        return _number(raw.get("number"))
    if kind == "between":
        low, high = _number(raw.get("low")), _number(raw.get("high"))
        return [low, high] if low is not None and high is not None else [v for v in (low, high) if v is not None]
    if kind == "territory":
        return (raw.get("territory") or "").strip()
    return (raw.get("text") or "").strip()


class RuleConditionForm(forms.ModelForm):
    field = FactField()
    op = forms.ChoiceField(
        label="Operator",
        choices=[("", "— operator —"), *Operator.choices],
        widget=forms.Select(attrs={"class": "condition-op", "data-kinds": json.dumps(VALUE_KIND)}),
    )
    value = ValueField()
    territory_names: list[str] = []  # set once per request by the inline (no query per row)

    class Meta:
        model = RuleCondition
        fields = ["field", "op", "value", "position"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "— territory —")] + [(n, n) for n in self.territory_names]
        self.fields["value"].widget.widgets[5].choices = choices

    @cached_property
    def changed_data(self):
        """The value changed only when the operator's input gives another stored value (other inputs do not count)."""
        changed = list(super().changed_data)
        if "value" in changed and "op" not in changed and self.instance.pk:
            raw = dict(zip(VALUE_PARTS, self["value"].data, strict=False))
            if condition_value(self["op"].data, raw) == self.initial.get("value"):
                changed.remove("value")
        return changed

    def clean(self):
        cleaned = super().clean()
        op = cleaned.get("op")
        raw = cleaned.get("value")
        if op and isinstance(raw, dict):
            cleaned["value"] = condition_value(op, raw)
            if op == "in_territory" and cleaned["value"] and cleaned["value"] not in self.territory_names:
                self.add_error("value", f"No territory is named “{cleaned['value']}”.")
        return cleaned
