"""Working hours as day checkboxes and two times (no JSON to type); stored as the routing file writes them."""

from __future__ import annotations

from django import forms

from reps.models import WEEKDAYS


class WorkingHoursWidget(forms.MultiWidget):
    template_name = "reps/working_hours_widget.html"

    def __init__(self, attrs=None):
        widgets = [
            forms.CheckboxSelectMultiple(choices=[(str(d), name) for d, name in WEEKDAYS.items()]),
            forms.TimeInput(attrs={"type": "time", "aria-label": "from"}, format="%H:%M"),
            forms.TimeInput(attrs={"type": "time", "aria-label": "until"}, format="%H:%M"),
        ]
        super().__init__(widgets, attrs)

    def decompress(self, value):
        if not value:
            return [[], None, None]
        return [[str(d) for d in value.get("days", [1, 2, 3, 4, 5])], value.get("start"), value.get("end")]


class WorkingHoursField(forms.MultiValueField):
    """Empty (no day, no time) = no restriction; else {"start": "HH:MM", "end": "HH:MM", "days": [1..7]}."""

    widget = WorkingHoursWidget

    def __init__(self, **kwargs):
        fields = (
            forms.MultipleChoiceField(choices=[(str(d), name) for d, name in WEEKDAYS.items()], required=False),
            forms.TimeField(required=False),
            forms.TimeField(required=False),
        )
        kwargs.setdefault(
            "help_text", "Leave every box and both times empty for no restriction. Times are in the rep's time zone."
        )
        super().__init__(fields, require_all_fields=False, required=False, **kwargs)

    def compress(self, data_list):
        if not data_list:
            return {}
        days, start, end = data_list
        if not days and start is None and end is None:
            return {}
        if start is None or end is None:
            raise forms.ValidationError("Give both times (from and until), or leave the working hours empty.")
        if not days:
            raise forms.ValidationError("Tick at least one working day, or leave the working hours empty.")
        return {"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M"), "days": sorted(int(d) for d in days)}
