"""Channels (the secret is shown once, when made) and every delivery with its attempts and last answer."""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from leadops.errors import DomainError
from notifications.models import Channel, Delivery, Event
from notifications.services.channels import channel_create, channel_events_clean, channel_url_clean
from notifications.services.deliver import deliveries_resend


class ChannelForm(forms.ModelForm):
    url = forms.URLField(label="URL", max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=Event.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked = every event.",
    )

    class Meta:
        model = Channel
        fields = ["name", "format", "url", "events", "team", "active"]

    def clean_url(self):
        try:
            return channel_url_clean(self.cleaned_data["url"])
        except DomainError as exc:
            raise forms.ValidationError(exc.errors["url"]) from exc

    def clean_events(self):
        return channel_events_clean(self.cleaned_data["events"])


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    form = ChannelForm
    list_display = ["name", "format", "url", "events_shown", "team", "active", "created_at"]
    list_filter = ["format", "active"]
    list_select_related = ["team"]
    search_fields = ["name", "url"]
    actions = ["new_secret"]

    @admin.display(description="events")
    def events_shown(self, channel):
        return ", ".join(channel.events) or "every event"

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        channel, secret = channel_create(
            name=data["name"],
            url=data["url"],
            format=data["format"],
            events=data["events"],
            team=data["team"],
            active=data["active"],
        )
        obj.pk, obj.secret = channel.pk, channel.secret
        self._show_secret(request, channel, secret)

    def _show_secret(self, request, channel, secret):
        self.message_user(
            request,
            format_html(
                "Signing secret of “{}”, shown this once (receivers check X-LeadOps-Signature): <code>{}</code>",
                channel.name,
                secret,
            ),
            messages.WARNING,
        )

    @admin.action(description="Give the selected channels a new signing secret", permissions=["change"])
    def new_secret(self, request, queryset):
        for channel in queryset:
            secret = channel.set_new_secret()
            channel.save(update_fields=["secret"])
            self._show_secret(request, channel, secret)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "event", "lead_link", "receiver_shown", "status", "attempts", "answer", "sent_at"]
    list_filter = ["status", "event", "channel", ("email", admin.EmptyFieldListFilter)]
    list_select_related = ["channel", "lead"]
    search_fields = ["=id", "=lead__id", "email"]
    raw_id_fields = ["lead", "rep", "channel"]
    show_full_result_count = False
    date_hierarchy = "created_at"
    actions = ["send_again"]
    readonly_fields = [
        "id",
        "event",
        "lead",
        "rep",
        "rule_name",
        "channel",
        "email",
        "status",
        "attempts",
        "last_answer",
        "last_attempt_at",
        "next_attempt_at",
        "sent_at",
        "at",
        "decided_at",
        "sla_due_at",
        "created_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="lead", ordering="lead")
    def lead_link(self, delivery):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:leadops_lead_change", args=[delivery.lead_id]), delivery.lead
        )

    @admin.display(description="to")
    def receiver_shown(self, delivery):
        return delivery.channel.name if delivery.channel_id else f"e-mail {delivery.email}"

    @admin.display(description="last answer")
    def answer(self, delivery):
        text = delivery.last_answer
        return text if len(text) <= 80 else text[:79] + "…"

    def has_resend_permission(self, request):
        return request.user.has_perm("notifications.change_delivery")

    @admin.action(description="Send again", permissions=["resend"])
    def send_again(self, request, queryset):
        moved = deliveries_resend(delivery_ids=queryset.values_list("id", flat=True))
        skipped = queryset.count() - moved
        self.message_user(
            request,
            f"{moved} deliveries queued to be sent again"
            + (f"; {skipped} left alone (sent already, or being sent right now)" if skipped else "")
            + ".",
        )
