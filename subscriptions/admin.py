"""Billing admin: plans, read-only subscriptions (Stripe is the truth),
complimentary access, processed webhook events and a publisher dashboard.

Editors have no permissions on these models (see the Editors group in the
articles migrations), so none of this shows for them.
"""

from __future__ import annotations

from datetime import timedelta

import stripe
from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from newsroom.admin_typeahead import TypeAheadMixin

from . import admin_experiments, billing  # noqa: F401  (admin_experiments registers the experiments' admin)
from .models import ComplimentaryAccess, Plan, StripeEvent, Subscription, money, stripe_refusal
from .stats import dashboard_numbers


class PlanForm(forms.ModelForm):
    """Terms Stripe would refuse are refused here, field by field. Changing a plan's price
    changes it in Stripe (billing.plan_change_price) only once the form is valid in every
    other way, uniqueness included: an invalid form never creates or archives a price. If
    Stripe refuses or cannot be reached, the form says so and nothing changes."""

    TERMS = ("amount_cents", "currency", "interval", "interval_count")

    class Meta:
        model = Plan
        fields = ["code", "name", "amount_cents", "currency", "interval", "interval_count", "trial_days",
                  "is_default", "is_active", "position"]

    def clean(self) -> dict:
        data = super().clean()
        if all(name in data for name in (*self.TERMS, "trial_days")):
            for name, problem in stripe_refusal(**{t: data[t] for t in (*self.TERMS, "trial_days")}).items():
                self.add_error(name, problem)
        return data

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound or self._errors:
            return
        plan = self.instance
        if not plan.pk or not plan.stripe_price_id or not any(t in self.changed_data for t in self.TERMS):
            return
        if not billing.is_configured():
            self.add_error(None, "This plan is sold through Stripe, and Stripe is not configured here, so its price "
                                 "cannot change.")
            return
        try:
            billing.plan_change_price(plan, **{t: self.cleaned_data[t] for t in self.TERMS})
        except stripe.StripeError as exc:
            self.add_error(None, f"Stripe did not take the new price, so nothing changed: {exc.user_message or exc}")


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    form = PlanForm
    list_display = ["name", "code", "price", "trial_days", "is_default", "is_active", "stripe_price_id"]
    list_editable = ["is_active"]
    readonly_fields = ["stripe_product_id", "stripe_price_id", "price_history"]
    change_list_template = "admin/subscriptions/plan_change_list.html"

    @admin.display(description="Price")
    def price(self, obj: Plan) -> str:
        return obj.price_label()

    @admin.display(description="Stripe prices this plan has had")
    def price_history(self, obj: Plan) -> str:
        return format_html_join(
            "", "<p>{} — {} every {} {}(s){}</p>",
            ((p.stripe_price_id, money(p.amount_cents, p.currency), p.interval_count, p.interval,
              f" (archived {p.archived_at:%Y-%m-%d})" if p.archived_at else " (current)") for p in obj.prices.all()),
        ) or "—"

    def has_delete_permission(self, request: HttpRequest, obj: Plan | None = None) -> bool:
        # A plan Stripe has sold or anyone subscribed to is deactivated, never deleted.
        if obj is not None and (obj.prices.exists() or obj.subscriptions.exists()):
            return False
        return super().has_delete_permission(request, obj)

    def get_urls(self):
        return [
            path("dashboard/", self.admin_site.admin_view(self.dashboard), name="subscriptions_dashboard"),
            *super().get_urls(),
        ]

    def dashboard(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("subscriptions.view_subscription"):
            raise PermissionDenied
        context = {**self.admin_site.each_context(request), "title": "Publisher dashboard", **dashboard_numbers()}
        return TemplateResponse(request, "admin/subscriptions/dashboard.html", context)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Billing truth is Stripe: look, don't touch."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["user", "plan_or_price", "price", "status", "trial_end", "current_period_end",
                    "cancel_at_period_end", "stripe_link"]  # fmt: skip
    list_filter = ["status", "plan", "cancel_at_period_end"]
    search_fields = ["user__email", "stripe_subscription_id", "stripe_customer_id", "stripe_price_id"]
    list_select_related = ["user", "plan"]

    @admin.display(description="Plan", ordering="plan")
    def plan_or_price(self, obj: Subscription) -> str:
        # A subscription adopted from the newsroom's old site keeps the price its reader chose there.
        if obj.plan is not None:
            return obj.plan.name
        return f"not one of our plans ({obj.stripe_price_id})" if obj.stripe_price_id else "—"

    @admin.display(description="Pays")
    def price(self, obj: Subscription) -> str:
        return obj.price_label() or "—"

    @admin.display(description="Stripe")
    def stripe_link(self, obj: Subscription) -> str:
        if not obj.stripe_subscription_id:
            return "—"
        return format_html(
            '<a href="https://dashboard.stripe.com/subscriptions/{}" rel="noopener">{}</a>',
            obj.stripe_subscription_id,
            obj.stripe_subscription_id,
        )


@admin.register(ComplimentaryAccess)
class ComplimentaryAccessAdmin(TypeAheadMixin, admin.ModelAdmin):
    list_display = ["user", "until", "note", "granted_by", "created_at"]
    search_fields = ["user__email", "note"]
    autocomplete_fields = ["user"]
    readonly_fields = ["granted_by", "created_at"]
    fields = ["user", "until", "note", "granted_by", "created_at"]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        return {"until": timezone.now() + timedelta(days=30)}

    def save_model(self, request: HttpRequest, obj: ComplimentaryAccess, form, change: bool) -> None:
        if not obj.granted_by_id:
            obj.granted_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "type", "received_at"]
    list_filter = ["type"]
    search_fields = ["event_id"]
