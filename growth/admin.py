"""Staff's side of growth: offers (made in Stripe once the form is valid), gifts (resend,
refund), the dashboard of which stories and sources bring readers in, and each story's own
figures on its admin page (the Article admin is extended here, as newsletter extends it, so
`articles` knows nothing of growth)."""

from __future__ import annotations

from datetime import datetime, timedelta

import stripe
from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from articles.admin import LabelledSplitDateTime
from articles.models import Article
from newsletter.admin import ArticleAdmin as NewsletterArticleAdmin  # articles' admin, with the email box
from subscriptions import billing
from subscriptions.models import money

from . import attribution, gifts, offers
from .models import Conversion, GiftSubscription, Offer, Source


class OfferForm(forms.ModelForm):
    """The offer is made in Stripe (billing.offer_sync) only once the form is valid in every other
    way; if Stripe refuses or cannot be reached, the form says so and nothing is saved."""

    class Meta:
        model = Offer
        fields = ["name", "code", "kind", "percent_off", "amount_off_cents", "currency", "duration",
                  "duration_in_months", "trial_days", "plan", "ends_at", "max_redemptions", "is_active"]
        widgets = {"ends_at": LabelledSplitDateTime}  # the date and time boxes named for screen readers

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound or self._errors:
            return
        if self.cleaned_data["kind"] != Offer.Kind.TRIAL and not billing.is_configured():
            self.add_error(None, "A discount is made in Stripe, and Stripe is not configured here.")
            return
        if not billing.is_configured():
            return
        adding = self.instance._state.adding
        try:
            with transaction.atomic():
                self.instance = self.save()
                billing.offer_sync(self.instance)
        except stripe.StripeError as exc:
            if adding:  # rolled back: the form shows again as a new offer
                self.instance.pk, self.instance._state.adding = None, True
            self.add_error(None, f"Stripe did not take the offer, so nothing changed: {exc.user_message or exc}")


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    form = OfferForm
    list_display = ["name", "code", "terms", "redemption_count", "ends_at", "is_active", "page"]
    list_filter = ["is_active", "kind"]
    readonly_fields = ["stripe_coupon_id", "stripe_promotion_code_id", "page"]

    @admin.display(description="Terms (on the default plan or its own)")
    def terms(self, obj: Offer) -> str:
        from subscriptions.models import default_plan

        plan = obj.plan or default_plan()
        return obj.price_words(plan) if plan else "—"

    @admin.display(description="Redemptions")
    def redemption_count(self, obj: Offer) -> str:
        return f"{obj.redemptions()}" + (f" of {obj.max_redemptions}" if obj.max_redemptions else "")

    @admin.display(description="Public page")
    def page(self, obj: Offer) -> str:
        if not obj.pk:
            return "—"
        url = reverse("subscriptions:offer", args=[obj.code])
        return format_html('<a href="{}">{}</a>', url, url)

    def get_urls(self):
        return [path("dashboard/", self.admin_site.admin_view(self.dashboard), name="growth_dashboard"),
                *super().get_urls()]

    def dashboard(self, request: HttpRequest) -> HttpResponse:
        """Stories by the readers they brought, by source, and the offers' figures; counts only."""
        today = timezone.localdate()
        since_day = _date(request.GET.get("since")) or today.replace(day=1)
        until_day = _date(request.GET.get("until")) or today
        since = timezone.make_aware(datetime.combine(since_day, datetime.min.time()))
        until = timezone.make_aware(datetime.combine(until_day + timedelta(days=1), datetime.min.time()))
        source = request.GET.get("source", "")
        source = source if source in Source.values else ""
        context = {
            **self.admin_site.each_context(request), "title": "Which stories bring readers in",
            "since": since_day, "until": until_day, "source": source, "sources": Source.choices,
            "stories": attribution.stories_report(since, until, source=source),
            "by_source": attribution.sources_report(since, until),
            "offers": offers.offers_report(),
            "gifts_sold": GiftSubscription.objects.exclude(status__in=("unpaid", "refunded"))
            .filter(created_at__gte=since, created_at__lt=until).count(),
        }
        return TemplateResponse(request, "admin/growth/dashboard.html", context)


def _date(value: str | None):
    try:
        return datetime.strptime(value or "", "%Y-%m-%d").date()
    except ValueError:
        return None


@admin.register(GiftSubscription)
class GiftAdmin(admin.ModelAdmin):
    list_display = ["pk", "recipient_email", "months", "price", "status", "deliver_on", "buyer_email",
                    "redeemed_at"]
    list_filter = ["status", "months"]
    search_fields = ["recipient_email", "buyer_email"]
    actions = ["resend", "refund"]
    readonly_fields = [f.name for f in GiftSubscription._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # bought by readers through Checkout

    @admin.display(description="Price")
    def price(self, obj: GiftSubscription) -> str:
        return money(obj.amount_cents, obj.currency)

    @admin.action(description="Send the recipient a new link (the old one stops working)")
    def resend(self, request: HttpRequest, queryset) -> None:
        sent = 0
        for gift in queryset.filter(status__in=(GiftSubscription.Status.PAID, GiftSubscription.Status.DELIVERED)):
            sent += gifts.gift_deliver(gift.pk, resend=True)
        self.message_user(request, f"Sent {sent} gift link(s). Only paid gifts not yet redeemed are sent.")

    @admin.action(description="Refund through Stripe (the gift stops giving access)")
    def refund(self, request: HttpRequest, queryset) -> None:
        for gift in queryset.exclude(status__in=(GiftSubscription.Status.UNPAID, GiftSubscription.Status.REFUNDED)):
            try:
                gifts.gift_refund(gift)
            except (stripe.StripeError, ValueError) as exc:
                self.message_user(request, f"Gift {gift.pk} was not refunded: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"Gift {gift.pk} refunded ({gift.price_display}).")


@admin.register(Conversion)
class ConversionAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "article", "source"]
    list_filter = ["kind", "source"]
    readonly_fields = ["kind", "key", "article", "source", "user", "stripe_subscription_id", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


admin.site.unregister(Article)


@admin.register(Article)
class ArticleAdmin(NewsletterArticleAdmin):
    """The story's page in the admin, with the readers it brought (counts only, for staff who may
    see the growth figures)."""

    readonly_fields = (*NewsletterArticleAdmin.readonly_fields, "growth_figures")

    def get_fieldsets(self, request: HttpRequest, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not request.user.has_perm("growth.view_conversion"):
            return fieldsets
        return (*fieldsets, ("Readers it brought", {
            "fields": ("growth_figures",),
            "description": "Counted on our own server, all time: readers who were on this story when they "
                           "signed up, started a trial or paid. No one is named.",
        }))

    @admin.display(description="Figures")
    def growth_figures(self, obj: Article) -> str:
        if not obj.pk:
            return "—"
        f = attribution.article_figures(obj.pk)
        return format_html(
            '<dl class="growth-figures" id="growth-figures">'
            "<dt>Free sign-ups</dt><dd>{}</dd><dt>Trials</dt><dd>{}</dd>"
            "<dt>Paid conversions</dt><dd>{}</dd><dt>Monthly revenue it brought</dt><dd>{}</dd>"
            "<dt>Gifts redeemed</dt><dd>{}</dd></dl>"
            '<p><a href="{}">All stories on the growth dashboard</a></p>',
            f["signup"], f["trial"], f["paid"], f["revenue"], f["gift"], reverse("admin:growth_dashboard"),
        )
