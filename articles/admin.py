"""The editors' admin: articles, sections and authors.

Editors (the "Editors" group, see migration 0002) write in Markdown; the body
is rendered and sanitized with nh3 on save (articles/rendering.py), so what
they paste can never put a script on a reader's page. Drafts and scheduled
articles can be previewed by staff at their real URL ("View on site").
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import widgets as admin_widgets
from django.db import models
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from .models import Article, Author, Category

MARKDOWN_HELP = (
    "Write in Markdown. Leave a blank line between paragraphs. "
    "<code>## Subheading</code> · <code>**bold**</code> · <code>*italic*</code> · "
    "<code>[link text](https://example.com)</code> · <code>&gt; A pull quote</code> · "
    "<code>- list item</code>. "
    "Put <code>[paywall]</code> alone on a line to choose where the free teaser ends; "
    "without it the first paragraphs are the teaser. HTML is stripped to a safe subset on save."
)

admin.site.site_header = f"{settings.SITE_NAME} · newsroom admin"
admin.site.site_title = f"{settings.SITE_NAME} admin"
admin.site.index_title = "Newsroom"


class StatusFilter(admin.SimpleListFilter):
    """Status as readers experience it: 'scheduled' in the past is already live."""

    title = "visibility"
    parameter_name = "visibility"

    def lookups(self, request, model_admin):
        return [("live", "Live now"), ("upcoming", "Scheduled, not yet live"), ("draft", "Draft")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "live":
            return queryset.published()
        if self.value() == "upcoming":
            return queryset.exclude(status=Article.Status.DRAFT).filter(publish_at__gt=now)
        if self.value() == "draft":
            return queryset.filter(status=Article.Status.DRAFT)
        return queryset


def _add_class(widget, name: str) -> str:
    """The widget's classes plus one (the admin's own, such as vTextField, stay)."""
    return " ".join(filter(None, [widget.attrs.get("class", ""), name]))


class LabelledSplitDateTime(admin_widgets.AdminSplitDateTime):
    """The admin's date and time boxes, each named for screen readers: Django shows
    "Date:" and "Time:" beside them as bare text, not as their labels."""

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs)
        self.widgets[0].attrs["aria-label"] = "Date"
        self.widgets[1].attrs["aria-label"] = "Time"


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    class Media:
        # Styles live in a stylesheet: the Content-Security-Policy refuses style="" attributes.
        css = {"all": ["css/admin.css"]}
        # Gives the authors picker's filter icons the role their aria-label needs.
        js = ["js/admin-a11y.js"]

    formfield_overrides = {models.DateTimeField: {"widget": LabelledSplitDateTime}}

    list_display = ("title", "category", "author_names", "status_badge", "publish_at", "access")
    list_display_links = ("title",)
    list_filter = (StatusFilter, "status", "access", "category", "authors", "comments_open")
    list_select_related = ("category",)
    search_fields = ("title", "standfirst", "body", "slug")
    prepopulated_fields = {"slug": ("title",)}
    date_hierarchy = "publish_at"
    filter_horizontal = ("authors",)
    ordering = ("-publish_at", "-id")
    list_per_page = 50
    save_on_top = True
    actions = ("publish_now", "make_draft")
    readonly_fields = ("hero_preview", "live_state", "updated_at", "created_at")
    fieldsets = (
        (None, {"fields": ("title", "slug", "standfirst", "category", "authors")}),
        ("Body", {"fields": ("body",)}),
        (
            "Hero image",
            {"fields": ("hero_image", "hero_preview", "hero_alt", "hero_caption", "hero_credit")},
        ),
        (
            "Publishing",
            {
                "fields": ("status", "publish_at", "live_state", "access", "comments_open"),
                "description": (
                    "Draft: only staff can see it (use “View on site” to preview). "
                    "Scheduled: goes live by itself at the publish time — no further action needed. "
                    "Published: live from the publish time (now, unless you set it later)."
                ),
            },
        ),
        ("History", {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Article]:
        return super().get_queryset(request).prefetch_related("authors").defer("body_html", "teaser_html")

    def view_on_site(self, obj: Article) -> str:
        # The real URL, not Django's /admin/r/ redirect (which would send staff to
        # the Sites framework's domain). Staff see drafts there with a preview banner.
        return obj.get_absolute_url()

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "body" and field is not None:
            field.help_text = MARKDOWN_HELP
            field.widget.attrs.update({"rows": 28, "class": _add_class(field.widget, "ledger-body-input")})
        if db_field.name in ("title", "slug", "hero_alt", "hero_caption", "hero_credit") and field is not None:
            field.widget.attrs["class"] = _add_class(field.widget, "ledger-wide-input")
        if db_field.name == "standfirst" and field is not None:
            field.widget.attrs.update({"rows": 3})
        return field

    @admin.display(description="Authors")
    def author_names(self, obj: Article) -> str:
        return ", ".join(a.name for a in obj.authors.all())

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Article) -> SafeString:
        if obj.status == Article.Status.DRAFT:
            return format_html('<span class="ledger-status ledger-status--draft">{}</span>', "Draft")
        if obj.publish_at > timezone.now():
            return format_html(
                '<span class="ledger-status ledger-status--scheduled">Scheduled · {}</span>',
                timezone.localtime(obj.publish_at).strftime("%b %d, %H:%M"),
            )
        return format_html('<span class="ledger-status ledger-status--live">{}</span>', "Live")

    @admin.display(description="Readers see it?")
    def live_state(self, obj: Article) -> str:
        if not obj.pk:
            return "Not saved yet."
        if obj.status == Article.Status.DRAFT:
            return "No — draft. Staff can preview it with “View on site”."
        if obj.publish_at > timezone.now():
            return f"Not yet — goes live {timezone.localtime(obj.publish_at):%B %d, %Y at %H:%M}."
        return "Yes — it is live."

    @admin.display(description="Renditions")
    def hero_preview(self, obj: Article) -> SafeString | str:
        sizes = (obj.hero_renditions or {}).get("sizes") or {}
        if not sizes:
            return "Renditions are made when you save an image."
        from django.core.files.storage import default_storage

        ordered = sorted(sizes.items(), key=lambda kv: int(kv[0]))
        return format_html(
            '<div class="ledger-renditions">{}</div>',
            format_html_join(
                "",
                '<figure><img src="{}" alt=""><figcaption>{} px wide</figcaption></figure>',
                ((default_storage.url(path), width) for width, path in ordered),
            ),
        )

    @admin.action(description="Publish selected articles now")
    def publish_now(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        count = 0
        for article in queryset:  # save() per article keeps renditions and search in step
            article.status = Article.Status.PUBLISHED
            if article.publish_at > timezone.now():
                article.publish_at = timezone.now()
            article.save()
            count += 1
        self.message_user(request, f"Published {count} article(s).", messages.SUCCESS)

    @admin.action(description="Move selected articles back to draft")
    def make_draft(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        count = 0
        for article in queryset:  # save(), not update(): its signal takes the cached pages down at once
            article.status = Article.Status.DRAFT
            article.save()
            count += 1
        self.message_user(request, f"{count} article(s) are drafts again.", messages.SUCCESS)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    view_on_site = ArticleAdmin.view_on_site
    list_display = ("name", "slug", "position", "article_count")
    list_editable = ("position",)
    search_fields = ("name", "description")
    prepopulated_fields = {"slug": ("name",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        return super().get_queryset(request).annotate(n_articles=Count("articles"))

    @admin.display(description="Articles", ordering="n_articles")
    def article_count(self, obj: Category) -> int:
        return obj.n_articles


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    class Media:
        # Styles live in a stylesheet: the Content-Security-Policy refuses style="" attributes.
        css = {"all": ["css/admin.css"]}

    view_on_site = ArticleAdmin.view_on_site
    list_display = ("name", "role", "user", "article_count")
    search_fields = ("name", "role", "bio")
    prepopulated_fields = {"slug": ("name",)}
    raw_id_fields = ("user",)
    readonly_fields = ("photo_preview",)
    fields = ("name", "slug", "role", "bio", "photo", "photo_preview", "user")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Author]:
        return super().get_queryset(request).select_related("user").annotate(n_articles=Count("articles"))

    @admin.display(description="Articles", ordering="n_articles")
    def article_count(self, obj: Author) -> int:
        return obj.n_articles

    @admin.display(description="Current photo")
    def photo_preview(self, obj: Author) -> SafeString | str:
        if not obj.photo:
            return "No photo."
        return format_html('<img src="{}" alt="" class="ledger-author-photo">', obj.photo.url)


from . import admin_comments  # noqa: E402,F401  (comment moderation, see that module)
