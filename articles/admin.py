"""The editors' admin: the desk, the article form, sections, authors, topics.

Editors (the "Editors" group) publish anything; writers (the "Writers" group,
migration 0005) draft and edit their own stories and cannot publish: the
`articles.publish_article` permission decides, here and nowhere else.

Editors write in Markdown beside a live preview (articles/admin_editor.py,
static/js/article-editor.js) that runs the same rendering and sanitizer
(nh3) as saving does, so what they paste can never put a script on a reader's
page. Every save keeps a revision (django-reversion): the history compares two
and restores one.
"""

from __future__ import annotations

from datetime import timedelta

import reversion
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import widgets as admin_widgets
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from reversion.admin import VersionAdmin
from reversion.models import Version

from newsroom.admin_typeahead import TypeAheadMixin

from . import admin_editor, checklist, desk_emails, rendering
from .models import Article, Author, Category, InlineImage, Page, Tag

MARKDOWN_HELP = (
    "Write in Markdown. Leave a blank line between paragraphs. "
    "<code>## Subheading</code> · <code>**bold**</code> · <code>*italic*</code> · "
    "<code>[link text](https://example.com)</code> · <code>&gt; A pull quote</code> · "
    "<code>- list item</code>. "
    "<strong>Pictures</strong>: “Add picture” (or drop one on the box) puts a line <code>[image 12]</code>. "
    "<strong>Embeds</strong>: paste a YouTube, Vimeo, X, Instagram, Bluesky, Datawrapper, Flourish, SoundCloud "
    "or audio-file link alone on a line; readers load it with a click. "
    "<strong>Paywall</strong>: “Insert paywall break” puts <code>[paywall]</code> where the free teaser ends; "
    "without it the first paragraphs are the teaser. Other HTML is stripped to a safe subset on save."
)

admin.site.site_header = f"{settings.SITE_NAME} · newsroom admin"
admin.site.site_title = f"{settings.SITE_NAME} admin"
admin.site.index_title = "Newsroom"


# The review buttons' names in the article form (review_panel draws them).
SUBMIT_FOR_REVIEW, SEND_BACK = "_submit_for_review", "_send_back"


def can_publish(user) -> bool:
    """Editors and administrators publish; writers only draft."""
    return user.has_perm("articles.publish_article")


def _today_bounds() -> tuple:
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


class StatusFilter(admin.SimpleListFilter):
    """The desk's view: what goes out today, what is scheduled, as readers experience it."""

    title = "on the desk"
    parameter_name = "visibility"

    def lookups(self, request, model_admin):
        return [
            ("today", "Going out today"),
            ("live", "Live now"),
            ("upcoming", "Scheduled, not yet live"),
            ("review", "Waiting for review"),
            ("draft", "Draft"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "today":
            start, end = _today_bounds()
            return queryset.exclude(status=Article.Status.DRAFT).filter(publish_at__gte=start, publish_at__lt=end)
        if self.value() == "live":
            return queryset.published()
        if self.value() == "upcoming":
            return queryset.exclude(status=Article.Status.DRAFT).filter(publish_at__gt=now)
        if self.value() == "review":
            return queryset.filter(status=Article.Status.DRAFT, review_requested_at__isnull=False)
        if self.value() == "draft":
            return queryset.filter(status=Article.Status.DRAFT)
        return queryset


class ArticleForm(forms.ModelForm):
    class Meta:
        model = Article
        fields = (
            "title", "slug", "standfirst", "category", "authors", "tags", "body", "hero_image", "hero_alt",
            "hero_caption", "hero_credit", "status", "publish_at", "access", "comments_open", "review_note",
            "update_note", "correction",
        )  # fmt: skip

    def clean(self) -> dict:
        data = super().clean()
        hero = data.get("hero_image") if "hero_image" in data else getattr(self.instance, "hero_image", None)
        draft = checklist.Draft(
            title=data.get("title") or "",
            standfirst=data.get("standfirst") or "",
            body=data.get("body") or "",
            has_hero=bool(hero),
            hero_alt=data.get("hero_alt") or "",
            has_section=bool(data.get("category")),
            n_authors=len(data.get("authors") or []),
        )
        self.checklist = checklist.check(draft)
        if SEND_BACK in self.data and "review_note" in self.fields and not (data.get("review_note") or "").strip():
            self.add_error("review_note", "Say what the writer should change: sending a story back needs a note.")
        if hero and not draft.hero_alt.strip() and "hero_alt" in self.fields:
            self.add_error("hero_alt", "Describe the main picture: alt text is required for every picture.")
        missing = checklist.missing_images(draft.body)
        if missing and "body" in self.fields:
            self.add_error(
                "body",
                "These picture lines point at no picture with alt text: "
                + ", ".join(f"[image {n}]" for n in missing)
                + ". Use “Add picture” to upload it with its alt text.",
            )
        return data


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
class ArticleAdmin(TypeAheadMixin, VersionAdmin):
    form = ArticleForm
    # The publish time is in "Where it stands" (scheduled or live since): one column less keeps
    # the headline readable in one or two lines at 1280 px.
    # Section, byline and length go on a quiet line under the headline, not in columns of their
    # own: beside the admin's two sidebars those left a long headline three lines at 1280 px.
    list_display = ("headline", "status_badge")
    formfield_overrides = {models.DateTimeField: {"widget": LabelledSplitDateTime}}
    list_display_links = ("headline",)
    list_filter = (StatusFilter, "status", "access", "category", "tags", "authors", "comments_open")
    list_select_related = ("category",)
    search_fields = ("title", "standfirst", "body", "slug")
    prepopulated_fields = {"slug": ("title",)}
    date_hierarchy = "publish_at"
    autocomplete_fields = ("authors", "tags")  # type-ahead (AuthorAdmin, TagAdmin search_fields)
    ordering = ("-publish_at", "-id")
    list_per_page = 50
    save_on_top = True
    actions = ("publish_now", "make_draft")
    change_list_template = "admin/articles/article/change_list.html"
    change_form_template = "admin/articles/article/change_form.html"
    object_history_template = "admin/articles/article/object_history.html"
    readonly_fields = (
        "hero_preview", "live_state", "updated_at", "created_at", "content_modified_at", "checklist_panel",
        "recent_changes", "reading_time", "review_panel",
    )  # fmt: skip
    fieldsets = (
        (None, {"fields": ("title", "slug", "standfirst", "category", "authors", "tags")}),
        ("The story", {"fields": ("body", "reading_time")}),
        ("Before you publish", {"fields": ("checklist_panel",)}),
        (
            "Main picture",
            {"fields": ("hero_image", "hero_preview", "hero_alt", "hero_caption", "hero_credit")},
        ),
        (
            "Publishing",
            {
                "fields": ("review_panel", "review_note", "status", "publish_at", "live_state", "access",
                           "comments_open"),
                "description": (
                    "Draft: only staff can see it (use “View on site” to preview). "
                    "Scheduled: goes live by itself at the publish time — no further action needed. "
                    "Published: live from the publish time (now, unless you set it later). "
                    "Only editors can schedule or publish: a writer submits a draft for review, and an "
                    "editor publishes it or sends it back with a note."
                ),
            },
        ),
        (
            "Updates and corrections",
            {
                "fields": ("update_note", "correction"),
                "description": (
                    "Readers see the update note under the byline and the correction at the foot of the story, "
                    "each with the time you saved it."
                ),
            },
        ),
        ("History", {"fields": ("recent_changes", "created_at", "updated_at", "content_modified_at")}),
    )

    class Media:
        # Styles and scripts live in files: the Content-Security-Policy refuses inline ones.
        css = {"all": ("css/admin.css", "css/admin-editor.css")}
        # admin-a11y.js gives the pickers' filter icons the role their aria-label needs.
        js = ("js/admin-a11y.js", "js/article-editor.js", "js/embeds.js")

    # --- who may do what -------------------------------------------------------------

    def _own(self, request: HttpRequest, obj: Article) -> bool:
        return obj.created_by_id == request.user.pk or obj.authors.filter(user=request.user).exists()

    def get_queryset(self, request: HttpRequest) -> QuerySet[Article]:
        qs = super().get_queryset(request).prefetch_related("authors").defer("body_html", "teaser_html")
        if not can_publish(request.user):
            # A writer's desk: the stories they started or carry the byline of.
            mine = Article.objects.filter(Q(created_by=request.user) | Q(authors__user=request.user)).values("pk")
            qs = qs.filter(pk__in=mine)
        return qs

    def has_change_permission(self, request: HttpRequest, obj: Article | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        if not allowed or obj is None or can_publish(request.user):
            return allowed
        # Writers edit their own drafts; once on the desk's schedule or live, it is the editors'.
        return obj.status == Article.Status.DRAFT and self._own(request, obj)

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return can_publish(request.user)

    def get_readonly_fields(self, request: HttpRequest, obj: Article | None = None) -> tuple:
        fields = super().get_readonly_fields(request, obj)
        if not can_publish(request.user):
            fields = (*fields, "status", "review_note")
        return fields

    def get_fieldsets(self, request: HttpRequest, obj: Article | None = None):
        if obj is None:  # nothing to show yet about history
            return [fs for fs in self.fieldsets if fs[0] != "History"]
        return self.fieldsets

    def save_model(self, request: HttpRequest, obj: Article, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        if not can_publish(request.user):
            obj.status = Article.Status.DRAFT  # also after restoring a revision that was live
        review = self._review_step(request, obj)
        if getattr(request, "_restoring_revision", False):
            obj.mark_edited()
        super().save_model(request, obj, form, change)
        if review:
            self.message_user(request, review, messages.SUCCESS)
        if SUBMIT_FOR_REVIEW in request.POST and obj.in_review:
            desk_emails.review_requested_email_on_commit(article=obj, submitted_by=request.user)
        for text in checklist.warnings(getattr(form, "checklist", [])):
            self.message_user(request, f"Before publishing: {text}", messages.WARNING)

    def _review_step(self, request: HttpRequest, obj: Article) -> str:
        """Apply the review button pressed, if any; the message to show."""
        if obj.status != Article.Status.DRAFT:  # scheduled or published: the review is over
            obj.review_requested_at = None
            return ""
        if SUBMIT_FOR_REVIEW in request.POST:
            obj.review_requested_at = timezone.now()
            return "Submitted for review: the editors see it on the desk."
        if SEND_BACK in request.POST and can_publish(request.user):
            obj.review_requested_at = None  # the form refused an empty note
            return "Sent back to the writer with your note."
        return ""

    def revision_view(self, request: HttpRequest, object_id: str, version_id: str, extra_context=None):
        request._restoring_revision = request.method == "POST"  # type: ignore[attr-defined]
        return super().revision_view(request, object_id, version_id, extra_context)

    # --- the editor's tools ----------------------------------------------------------

    def get_urls(self):
        extra = [
            path("preview/", self.admin_site.admin_view(admin_editor.preview), name="articles_article_preview"),
            path(
                "review-emails/",
                self.admin_site.admin_view(admin_editor.review_emails),
                name="articles_article_review_emails",
            ),
            path(
                "upload-image/",
                self.admin_site.admin_view(admin_editor.upload_image),
                name="articles_article_upload_image",
            ),
            path(
                "<path:object_id>/autosave/",
                self.admin_site.admin_view(self.autosave_view),
                name="articles_article_autosave",
            ),
            path(
                "<path:object_id>/history/compare/",
                self.admin_site.admin_view(self.compare_view),
                name="articles_article_compare",
            ),
        ]
        return extra + super().get_urls()

    def changeform_view(self, request: HttpRequest, object_id=None, form_url="", extra_context=None):
        obj = self.get_object(request, object_id) if object_id else None
        draft = obj is None or obj.status == Article.Status.DRAFT
        editor = can_publish(request.user)
        submit_label = "Resubmit for review" if obj is not None and obj.in_review else "Submit for review"
        review = {
            # Writers hand a draft to the editors; editors send a submitted one back (publishing is the status).
            "review_submit": (SUBMIT_FOR_REVIEW, submit_label) if draft and not editor else None,
            "review_send_back": SEND_BACK if obj is not None and obj.in_review and editor else None,
        }
        return super().changeform_view(request, object_id, form_url, {**review, **(extra_context or {})})

    def autosave_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return admin_editor.autosave(request, self, object_id)

    def compare_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return admin_editor.compare(request, self, object_id)

    def history_view(self, request: HttpRequest, object_id: str, extra_context=None):
        revisions = [
            {
                "version": v,
                "revision": v.revision,
                "url": reverse("admin:articles_article_revision", args=[object_id, v.pk]),
            }
            for v in Version.objects.get_for_object_reference(Article, object_id)
            .select_related("revision__user")
            .order_by("-revision__date_created", "-pk")
        ]
        context = {"compare_url": reverse("admin:articles_article_compare", args=[object_id]), "revisions": revisions}
        return super().history_view(request, object_id, {**context, **(extra_context or {})})

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        initial = super().get_changeform_initial_data(request)
        author = Author.objects.filter(user=request.user).first()
        if author and "authors" not in initial:
            initial["authors"] = [author.pk]  # a writer's own byline, ready
        return initial

    def view_on_site(self, obj: Article) -> str:
        # The real URL, not Django's /admin/r/ redirect (which would send staff to
        # the Sites framework's domain). Staff see drafts there with a preview banner.
        return obj.get_absolute_url()

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "body" and field is not None:
            field.help_text = MARKDOWN_HELP
            field.widget.attrs.update(
                {
                    "rows": 28,
                    "class": _add_class(field.widget, "ledger-body-input editor-body"),
                    "data-preview-url": reverse("admin:articles_article_preview"),
                    # The preview is drawn with the site's own stylesheet, inside a shadow root: the
                    # admin's styles stay out of it, and the site's stay out of the admin.
                    "data-site-css": static("css/site.css"),
                    "data-editor-css": static("css/admin-editor.css"),
                    "data-upload-url": reverse("admin:articles_article_upload_image"),
                    "data-can-upload": "1" if request.user.has_perm("articles.add_inlineimage") else "",
                }
            )
        if db_field.name in ("title", "slug", "hero_alt", "hero_caption", "hero_credit", "update_note") and field:
            field.widget.attrs["class"] = _add_class(field.widget, "ledger-wide-input")
        if db_field.name == "publish_at" and field is not None:
            # The newsroom's clock, said once: Django's "You are N hours ahead of server time"
            # note under the boxes is hidden (admin-editor.css); "Now" already fills in this time.
            zone = settings.TIME_ZONE.rsplit("/", 1)[-1].replace("_", " ")
            field.help_text = f"{field.help_text} In the newsroom's time: {zone} ({timezone.localtime():%Z})."
        if db_field.name == "standfirst" and field is not None:
            field.widget.attrs.update({"rows": 3})
        if db_field.name == "correction" and field is not None:
            field.widget.attrs.update({"rows": 3})
        return field

    # --- the desk --------------------------------------------------------------------

    def changelist_view(self, request: HttpRequest, extra_context=None):
        start, end = _today_bounds()
        now = timezone.now()
        qs = self.get_queryset(request).exclude(status=Article.Status.DRAFT).only("title", "publish_at", "status")
        desk = {
            "today": list(qs.filter(publish_at__gte=start, publish_at__lt=end).order_by("publish_at")),
            "scheduled": list(qs.filter(publish_at__gt=now).order_by("publish_at")[:15]),
            "review": list(
                self.get_queryset(request)
                .filter(status=Article.Status.DRAFT, review_requested_at__isnull=False)
                .only("title", "review_requested_at")
                .order_by("review_requested_at")[:15]
            ),
            "now": now,
            # Editors choose here whether a submission is emailed to them (None: not an editor).
            "review_emails": desk_emails.wants_review_emails(request.user) if can_publish(request.user) else None,
        }
        return super().changelist_view(request, {"desk": desk, **(extra_context or {})})

    @admin.display(description="Headline", ordering="title")
    def headline(self, obj: Article) -> SafeString:
        return format_html(
            '<span class="desk-headline">{}</span><span class="desk-meta">{} · {} · {} words</span>',
            obj.title, obj.category.name, self.author_names(obj) or "no byline", obj.word_count,
        )  # fmt: skip

    @admin.display(description="Byline")
    def author_names(self, obj: Article) -> str:
        return ", ".join(a.name for a in obj.authors.all())

    @admin.display(description="Words")
    def words(self, obj: Article) -> int:
        return obj.word_count

    @admin.display(description="Where it stands", ordering="publish_at")
    def status_badge(self, obj: Article) -> SafeString:
        if obj.in_review:
            return format_html('<span class="ledger-status ledger-status--review">{}</span>', "Waiting for review")
        if obj.status == Article.Status.DRAFT:
            return format_html('<span class="ledger-status ledger-status--draft">{}</span>', "Draft")
        if obj.publish_at > timezone.now():
            return format_html(
                '<span class="ledger-status ledger-status--scheduled">Scheduled · {}</span>',
                timezone.localtime(obj.publish_at).strftime("%b %d, %H:%M"),
            )
        return format_html(
            '<span class="ledger-status ledger-status--live">Live · {}</span>',
            timezone.localtime(obj.publish_at).strftime("%b %d, %H:%M"),
        )

    @admin.display(description="On the site")
    def live_state(self, obj: Article) -> str:
        if not obj.pk:
            return "Not saved yet."
        if obj.status == Article.Status.DRAFT:
            return "Not yet — it is a draft. Staff can preview it with “View on site”."
        if obj.publish_at > timezone.now():
            return f"Not yet — goes live {timezone.localtime(obj.publish_at):%B %d, %Y at %H:%M}."
        return "Yes — it is live."

    @admin.display(description="Review")
    def review_panel(self, obj: Article) -> str:
        """Where the story stands with the editors (the buttons are in the form's save row)."""
        if obj.pk and obj.status != Article.Status.DRAFT:
            return "Not needed: it is scheduled or published."
        if obj.in_review:
            return f"Waiting for an editor since {timezone.localtime(obj.review_requested_at):%b %d, %H:%M}."
        return "Not submitted yet. When it is ready, “Submit for review” hands it to the editors."

    @admin.display(description="Length")
    def reading_time(self, obj: Article) -> SafeString:
        words = obj.word_count if obj.pk else 0
        return format_html(
            '<span class="editor-length" data-editor-length>{} words · {} min read</span>',
            words,
            rendering.reading_minutes(words),
        )

    @admin.display(description="Checklist")
    def checklist_panel(self, obj: Article) -> SafeString:
        items = checklist.check(
            checklist.Draft(
                title=obj.title or "",
                standfirst=obj.standfirst or "",
                body=obj.body or "",
                has_hero=bool(obj.hero_image),
                hero_alt=obj.hero_alt or "",
                has_section=bool(obj.category_id),
                n_authors=obj.authors.count() if obj.pk else 0,
            )
        )
        return render_to_string("admin/articles/article/_checklist.html", {"items": items})

    @admin.display(description="Who changed what")
    def recent_changes(self, obj: Article) -> SafeString | str:
        if not obj.pk:
            return "Not saved yet."
        versions = Version.objects.get_for_object(obj).select_related("revision__user")[:6]
        rows = format_html_join(
            "",
            "<li><time>{}</time> · {} · {}</li>",
            (
                (
                    timezone.localtime(v.revision.date_created).strftime("%b %d, %H:%M"),
                    (v.revision.user.get_full_name() or v.revision.user.get_username()) if v.revision.user else "—",
                    v.revision.get_comment() or "Saved",
                )
                for v in versions
            ),
        )
        return format_html(
            '<ul class="editor-changes">{}</ul><a href="{}">All revisions — compare and restore</a>',
            rows or format_html("<li>{}</li>", "No saved revisions yet."),
            reverse("admin:articles_article_history", args=[obj.pk]),
        )

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

    @admin.action(description="Publish selected articles now", permissions=["publish"])
    def publish_now(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        count = 0
        for article in queryset:  # save() per article keeps renditions and search in step
            article.status = Article.Status.PUBLISHED
            if article.publish_at > timezone.now():
                article.publish_at = timezone.now()
            with self.create_revision(request):
                article.save()
                reversion.set_comment("Published from the article list.")
            count += 1
        self.message_user(request, f"Published {count} article(s).", messages.SUCCESS)

    @admin.action(description="Move selected articles back to draft", permissions=["publish"])
    def make_draft(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        count = 0
        for article in queryset:  # save(), not update(): its signal takes the cached pages down at once
            article.status = Article.Status.DRAFT
            with self.create_revision(request):
                article.save()
                reversion.set_comment("Moved back to draft from the article list.")
            count += 1
        self.message_user(request, f"{count} article(s) are drafts again.", messages.SUCCESS)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    view_on_site = ArticleAdmin.view_on_site
    list_display = ("name", "slug", "article_count")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tag]:
        return super().get_queryset(request).annotate(n_articles=Count("articles"))

    @admin.display(description="Articles", ordering="n_articles")
    def article_count(self, obj: Tag) -> int:
        return obj.n_articles


@admin.register(InlineImage)
class InlineImageAdmin(admin.ModelAdmin):
    list_display = ("thumbnail", "markdown_line", "alt", "caption", "credit", "uploaded_by", "created_at")
    search_fields = ("alt", "caption", "credit")
    readonly_fields = ("thumbnail", "markdown_line", "in_stories")
    fields = ("image", "thumbnail", "markdown_line", "in_stories", "alt", "caption", "credit")

    @admin.display(description="In stories")
    def in_stories(self, obj: InlineImage) -> SafeString | str:
        """Where a change here shows: saving or deleting the picture redraws these stories."""
        stories = list(Article.objects.showing_picture(obj.pk).only("pk", "title")) if obj.pk else []
        if not stories:
            return "None yet. A correction here shows in every story that has the picture."
        rows = ((reverse("admin:articles_article_change", args=[a.pk]), a.title) for a in stories)
        links = format_html_join(", ", '<a href="{}">{}</a>', rows)
        return format_html(
            "{}. A correction here shows in each of them at once; deleting the picture takes it out of them.", links
        )

    @admin.display(description="Put in a story with")
    def markdown_line(self, obj: InlineImage) -> str:
        return obj.markdown if obj.pk else "Save first."

    @admin.display(description="Picture")
    def thumbnail(self, obj: InlineImage) -> SafeString | str:
        if not obj.image:
            return ""
        return format_html('<img class="editor-thumb" src="{}" alt="">', obj.image.url)

    def save_model(self, request: HttpRequest, obj: InlineImage, form, change: bool) -> None:
        if not change:
            obj.uploaded_by = request.user
        super().save_model(request, obj, form, change)


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


@admin.register(Page)
class PageAdmin(admin.ModelAdmin):
    """About, contact, corrections, privacy, terms: Markdown as in stories; "View on site"
    shows the saved page, and the preview below the text is what readers get."""

    list_display = ("title", "slug", "updated_at")
    fields = ("slug", "title", "body", "rendered", "updated_at")
    readonly_fields = ("rendered", "updated_at")

    @admin.display(description="As readers see it (after saving)")
    def rendered(self, obj: Page) -> SafeString | str:
        if not obj.pk:
            return "Save to see the page as readers will."
        return format_html('<div class="article-preview">{}</div>', SafeString(obj.body_html))


from . import admin_comments  # noqa: E402,F401  (comment moderation, see that module)

# Stories brought in by `manage.py import_archive` (docs/moving-in.md): the desk can list them by
# the system they came from. Their old addresses are in Redirects (django.contrib.redirects' admin).
ArticleAdmin.list_filter = (*ArticleAdmin.list_filter, "import_source")
