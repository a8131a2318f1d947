"""Newsletters in the admin: each send's figures, previews and test sends; the welcome emails.

Editors (who may change articles) see the sends and use the previews; the
article form gains a "send as email" box with preview links (the Article admin
from `articles` is extended here, so `articles` knows nothing of newsletters).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from articles.admin import ArticleAdmin as BaseArticleAdmin
from articles.models import Article
from subscriptions import access
from subscriptions.admin import ReadOnlyAdmin

from . import content, sending
from .models import Delivery, EmailSignup, Send, WelcomeEmail

EDIT_PERMISSION = "articles.change_article"


def _count(status: str) -> Count:
    return Count("deliveries", filter=Q(deliveries__status=status))


@admin.register(Send)
class SendAdmin(ReadOnlyAdmin):
    list_display = ("subject", "kind", "status", "created_at", "recipients", "sent", "failed", "unsubscribes")
    list_filter = ("kind", "status")
    readonly_fields = ("key", "kind", "article", "subject", "status", "created_at", "finished_at", "figures")
    fields = readonly_fields
    change_list_template = "admin/newsletter/send/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Send]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_recipients=Count("deliveries", filter=~Q(deliveries__status=Delivery.Status.SKIPPED)),
                n_sent=_count(Delivery.Status.SENT),
                n_failed=Count(
                    "deliveries",
                    filter=Q(deliveries__status__in=[Delivery.Status.FAILED, Delivery.Status.BOUNCED]),
                ),
                n_pending=_count(Delivery.Status.PENDING),
                n_unsubscribes=Count("deliveries", filter=Q(deliveries__unsubscribed_at__isnull=False)),
            )
        )

    @admin.display(description="Recipients", ordering="n_recipients")
    def recipients(self, obj: Send) -> int:
        return obj.n_recipients

    @admin.display(description="Sent", ordering="n_sent")
    def sent(self, obj: Send) -> str:
        return f"{obj.n_sent} (+{obj.n_pending} to go)" if obj.n_pending else str(obj.n_sent)

    @admin.display(description="Failed", ordering="n_failed")
    def failed(self, obj: Send) -> int:
        return obj.n_failed

    @admin.display(description="Unsubscribes", ordering="n_unsubscribes")
    def unsubscribes(self, obj: Send) -> int:
        return obj.n_unsubscribes

    @admin.display(description="Figures")
    def figures(self, obj: Send) -> SafeString:
        rows = dict(obj.deliveries.values_list("status").annotate(n=Count("id")))
        labels = dict(Delivery.Status.choices)
        parts = [f"{labels[s]}: {rows.get(s, 0)}" for s in Delivery.Status.values]
        parts.append(f"Unsubscribed from this email: {obj.n_unsubscribes}")
        return format_html("{}", " · ".join(parts))

    # Editors see the figures; nobody edits a send by hand (ReadOnlyAdmin).
    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(EDIT_PERMISSION)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(EDIT_PERMISSION)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("preview/<str:kind>/<int:article_id>/<str:who>/", wrap(self.preview), name="newsletter_preview"),
            path("test/<str:kind>/<int:article_id>/", wrap(self.send_test_view), name="newsletter_test"),
            *super().get_urls(),
        ]

    def _email(self, request: HttpRequest, kind: str, article_id: int) -> tuple[str, list[Article]]:
        """Subject and stories: one article's breaking email, or the digest as it would go out now."""
        if not request.user.has_perm(EDIT_PERMISSION):
            raise PermissionDenied
        if kind == Send.Kind.BREAKING:
            article = get_object_or_404(Article.objects.select_related("category"), pk=article_id)
            return article.title, [article]
        if kind == Send.Kind.DIGEST:
            stories = sending.digest_articles(timezone.now())
            if not stories:
                raise Http404("No stories went live in the last 24 hours.")
            return sending.digest_subject(timezone.localdate(), stories[0]), stories
        raise Http404

    def preview(self, request: HttpRequest, kind: str, article_id: int, who: str) -> HttpResponse:
        """The HTML part exactly as the reader gets it, in a sandbox (no scripts, no forms)."""
        subject, articles = self._email(request, kind, article_id)
        ent = access.Entitlement(reason=access.Reason.SUBSCRIBER) if who == "subscriber" else access.NONE
        rendered = content.render(kind, subject, articles, content.decisions(ent, articles))
        response = HttpResponse(rendered.html.replace(content.UNSUBSCRIBE_PLACEHOLDER, "#unsubscribe"))
        # The email's own inlined styles, and nothing that could run: a preview is not a page of the site.
        response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src * data:; style-src 'unsafe-inline'"
        return response

    def send_test_view(self, request: HttpRequest, kind: str, article_id: int) -> HttpResponse:
        subject, articles = self._email(request, kind, article_id)
        if request.method == "POST":
            for as_subscriber in (True, False):
                sending.send_test(
                    kind=kind, articles=articles, subject=subject, to_user=request.user, as_subscriber=as_subscriber
                )
            messages.success(
                request, f"Two test emails (as a subscriber, as a free reader) went to {request.user.email}."
            )
            if kind == Send.Kind.BREAKING:
                return redirect("admin:articles_article_change", article_id)
            return redirect("admin:newsletter_send_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": "Send a test email to yourself",
            "subject": subject,
            "kind": kind,
            "email": request.user.email,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/newsletter/send/test.html", context)


def email_links(kind: str, article_id: int) -> SafeString:
    def url(name: str, *args) -> str:
        return reverse(f"admin:newsletter_{name}", args=[kind, article_id, *args])

    return format_html(
        '<a href="{}" target="_blank" rel="noopener">Preview as a subscriber</a> · '
        '<a href="{}" target="_blank" rel="noopener">Preview as a free reader</a> · '
        '<a href="{}">Send a test to yourself</a>',
        url("preview", "subscriber"),
        url("preview", "free"),
        url("test"),
    )


admin.site.unregister(Article)


@admin.register(Article)
class ArticleAdmin(BaseArticleAdmin):
    readonly_fields = (*BaseArticleAdmin.readonly_fields, "email_tools")

    def get_fieldsets(self, request: HttpRequest, obj=None):
        return (
            *super().get_fieldsets(request, obj),
            (
                "Email",
                {
                    "fields": ("send_as_email", "email_tools"),
                    "description": (
                        "Ticked, the story is emailed once to readers who chose breaking news, when it goes "
                        "live (a scheduled story goes out at its publish time). Subscribers get the full text; "
                        "free readers get the teaser and a subscribe button."
                    ),
                },
            ),
        )

    @admin.display(description="Email")
    def email_tools(self, obj: Article) -> SafeString | str:
        if not obj.pk:
            return "Save the article to preview its email."
        sent = obj.email_sends.filter(kind=Send.Kind.BREAKING).first()
        status = ""
        if sent is not None:
            figures = reverse("admin:newsletter_send_change", args=[sent.pk])
            status = format_html(
                ' · <a href="{}">Emailed {:%b %d, %H:%M}: see the figures</a>',
                figures,
                timezone.localtime(sent.created_at),
            )
        return format_html("{}{}", email_links(Send.Kind.BREAKING, obj.pk), status)


@admin.register(EmailSignup)
class EmailSignupAdmin(admin.ModelAdmin):
    """Email-only readers: the consent record is theirs, so it is looked at, not edited;
    deleting a row (a reader's request to be forgotten) is allowed."""

    list_display = ("email", "source", "created_at", "confirmed_at", "unsubscribed_at")
    list_filter = (
        "source",
        ("confirmed_at", admin.EmptyFieldListFilter),
        ("unsubscribed_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("email",)
    readonly_fields = (
        "email",
        "source",
        "consent_text",
        "created_at",
        "confirmation_sent_at",
        "confirmed_at",
        "unsubscribed_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


STARTER = {
    WelcomeEmail.Audience.FREE: (
        "Welcome to {site}",
        "Thank you for joining {site}.\n\n"
        "With your free account you can read a few stories a day, and choose the emails you want: "
        "a daily digest, breaking news, or none.\n\n"
        "Questions or tips? Just reply to this email.",
    ),
    WelcomeEmail.Audience.SUBSCRIBER: (
        "You are a subscriber: here is what that brings",
        "Thank you for supporting {site}. Every story is now open to you, without ads, and you can "
        "join the conversation in the comments.\n\n"
        "- The **daily digest** brings the day's stories to your inbox.\n"
        "- Your account page has your billing and your email choices.\n\n"
        "Independent reporting is paid for by readers like you. Thank you.",
    ),
}


@admin.register(WelcomeEmail)
class WelcomeEmailAdmin(admin.ModelAdmin):
    """Staff write the two welcome emails, preview them, and turn each on (newsletter/welcome.py).
    Each reader gets each once: the deliveries are the welcome's Send, listed with the others."""

    list_display = ("__str__", "subject", "enabled", "enabled_at", "sent")
    readonly_fields = ("preview", "log")

    class Media:
        css = {"all": ("css/admin.css", "css/newsletter-admin.css")}

    def get_fields(self, request: HttpRequest, obj=None):
        return ("audience", "subject", "body", "enabled", "preview", "log") if obj else (
            "audience", "subject", "body", "enabled")

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return ("audience", *self.readonly_fields) if obj else ()

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        """A starting text in our own words, for the audience asked for (?audience=) or the free one."""
        audience = request.GET.get("audience", WelcomeEmail.Audience.FREE)
        if audience not in WelcomeEmail.Audience.values:
            audience = WelcomeEmail.Audience.FREE
        subject, body = STARTER[audience]
        return {"audience": audience, "subject": subject.format(site=settings.SITE_NAME),
                "body": body.format(site=settings.SITE_NAME)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[WelcomeEmail]:
        return super().get_queryset(request).annotate(
            n_sent=Count("send__deliveries", filter=Q(send__deliveries__status=Delivery.Status.SENT))
        )

    @admin.display(description="Sent to", ordering="n_sent")
    def sent(self, obj: WelcomeEmail) -> str:
        return f"{obj.n_sent} reader{'' if obj.n_sent == 1 else 's'}"

    @admin.display(description="Preview")
    def preview(self, obj: WelcomeEmail) -> SafeString:
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">See the email as readers get it</a> '
            "(what is saved: save your changes first; it is not sent while “Send it” is not ticked)",
            reverse("admin:newsletter_welcomeemail_preview", args=[obj.pk]),
        )

    @admin.display(description="Delivery log")
    def log(self, obj: WelcomeEmail) -> SafeString | str:
        if obj.send_id is None:
            return "—"
        return format_html(
            '<a href="{}">Sent to {} · see every delivery</a>',
            reverse("admin:newsletter_send_change", args=[obj.send_id]),
            obj.send.deliveries.filter(status=Delivery.Status.SENT).count(),
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [path("<int:pk>/preview/", wrap(self.preview_view), name="newsletter_welcomeemail_preview"),
                *super().get_urls()]

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The HTML part exactly as the reader gets it, in a sandbox (no scripts, no forms)."""
        welcome = get_object_or_404(WelcomeEmail, pk=pk)
        if not self.has_view_permission(request, welcome):
            raise PermissionDenied
        rendered = content.render_welcome(welcome)
        response = HttpResponse(rendered.html)
        response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src * data:; style-src 'unsafe-inline'"
        return response
