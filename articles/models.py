from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models.functions import Now
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.text import slugify

from . import images, rendering


class Category(models.Model):
    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(
        default=0, help_text="Order on the home page and in the navigation (lowest first)."
    )

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("articles:category", kwargs={"slug": self.slug})


class Author(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    role = models.CharField(max_length=120, blank=True, help_text="e.g. Defense correspondent")
    bio = models.TextField(blank=True)
    photo = models.ImageField(upload_to="authors/%Y/", blank=True, validators=[images.validate_pixels])
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="author_profile",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("articles:author", kwargs={"slug": self.slug})


class Tag(models.Model):
    """A topic that cuts across sections (e.g. "Housing", "City budget")."""

    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "topic tag"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("articles:tag", kwargs={"slug": self.slug})


class InlineImage(models.Model):
    """A picture placed inside a story's body with a line `[image 12]`.

    Alt text is required: a picture a screen reader cannot describe is refused.
    It gets the same renditions as hero images (articles/images.py)."""

    image = models.ImageField("picture", upload_to="inline/%Y/%m/", validators=[images.validate_pixels])
    alt = models.CharField(
        "describe the picture (alt text)", max_length=250, help_text="What a reader who cannot see it needs to know."
    )
    caption = models.CharField(max_length=300, blank=True)
    credit = models.CharField(max_length=200, blank=True)
    renditions = models.JSONField(default=dict, blank=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, editable=False, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "picture in a story"
        verbose_name_plural = "pictures in stories"

    def __str__(self) -> str:
        return f"[image {self.pk}] {self.alt}"

    def save(self, *args, **kwargs) -> None:
        if self.image and self.renditions.get("source") != self.image.name:
            if not getattr(self.image, "_committed", True):
                self.image.save(self.image.name, self.image.file, save=False)
            self.renditions = images.make_renditions(self.image)
        super().save(*args, **kwargs)

    @property
    def markdown(self) -> str:
        return f"[image {self.pk}]"


class ArticleQuerySet(models.QuerySet):
    def showing_picture(self, image_id: int) -> ArticleQuerySet:
        """Stories whose body names picture `image_id` (an `[image N]` line), found through
        the partial index of stories with any picture line rather than a read of every body."""
        return self.filter(body__iregex=rendering.ANY_IMAGE).filter(body__iregex=rendering.naming_image(image_id))

    def published(self) -> ArticleQuerySet:
        """What readers may see: published or scheduled, once the publish time has come.

        A scheduled article needs no cron job: it simply starts matching this
        filter when its time passes.
        """
        return self.filter(
            status__in=[Article.Status.PUBLISHED, Article.Status.SCHEDULED],
            publish_at__lte=timezone.now(),
        )

    def next_publication(self) -> models.QuerySet:
        """When the next scheduled story goes live (its `publish_at`, first row): the
        moment every list it belongs on changes without any save."""
        return (
            self.filter(status=Article.Status.SCHEDULED, publish_at__gt=Now())
            .order_by("publish_at")
            .values("publish_at")[:1]
        )

    def for_listing(self) -> ArticleQuerySet:
        """Columns and joins every list of article cards needs, without the bodies."""
        return (
            self.select_related("category")
            .prefetch_related("authors", "tags")
            .defer("body", "body_html", "teaser_html", "search_vector", "public_search_vector")
            .order_by("-publish_at", "-id")
        )


# The systems `manage.py import_archive` reads (articles/imports/).
IMPORT_SOURCES = [("wordpress", "WordPress"), ("ghost", "Ghost"), ("substack", "Substack")]

# What readers see of an article: a change to any of these is a real edit
# (dateModified, the sitemap's lastmod); status, scheduling or switches are not.
CONTENT_FIELDS = (
    "title", "standfirst", "body", "hero_image", "hero_alt", "hero_caption", "hero_credit", "update_note", "correction",
)  # fmt: skip


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        PUBLISHED = "published", "Published"

    class Access(models.TextChoices):
        FREE = "free", "Free for everyone"
        METERED = "metered", "Metered (counts toward the daily free limit)"
        SUBSCRIBERS = "subscribers", "Subscribers only"

    title = models.CharField("headline", max_length=200)
    slug = models.SlugField(
        "web address", max_length=200, unique=True, help_text="The last part of the story's address; fills itself in."
    )
    standfirst = models.TextField(
        "summary",
        max_length=500,
        help_text="One or two sentences shown under the headline, in lists and in link previews.",
    )
    body = models.TextField(
        "story",
        help_text=(
            "Markdown: blank line between paragraphs, **bold**, *italic*, [link](https://…), "
            "## Subheading, > pull quote. A line holding only [paywall] marks where the free "
            "teaser ends (optional)."
        ),
    )
    body_html = models.TextField(editable=False, default="")
    teaser_html = models.TextField(editable=False, default="")
    # Counted on save, so a page (whose row comes without the body) shows the reading time for free.
    word_count = models.PositiveIntegerField(default=0, editable=False)
    hero_image = models.ImageField(
        "main picture", upload_to="articles/%Y/%m/", blank=True, validators=[images.validate_pixels]
    )
    hero_alt = models.CharField(
        "describe the picture (alt text)",
        max_length=250,
        blank=True,
        help_text="Required with a picture: what a reader who cannot see it needs to know.",
    )
    hero_caption = models.CharField("caption", max_length=300, blank=True)
    hero_credit = models.CharField("photo credit", max_length=200, blank=True)
    hero_renditions = models.JSONField(default=dict, blank=True, editable=False)
    category = models.ForeignKey(Category, verbose_name="section", on_delete=models.PROTECT, related_name="articles")
    authors = models.ManyToManyField(Author, verbose_name="byline", related_name="articles")
    tags = models.ManyToManyField(Tag, verbose_name="topics", related_name="articles", blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    publish_at = models.DateTimeField(
        "publish time",
        default=timezone.now,
        db_index=True,
        help_text="For a scheduled article, the moment it goes live by itself.",
    )
    # A writer hands a draft to the editors ("Submit for review"); an editor publishes it or
    # sends it back with a note. It stays a draft throughout: nothing here makes it readable.
    review_requested_at = models.DateTimeField("submitted for review", null=True, blank=True, editable=False)
    review_note = models.TextField(
        "note from the editor",
        blank=True,
        max_length=2000,
        help_text="What the writer should change before it runs. Sending a story back needs one.",
    )
    updated_at = models.DateTimeField("last saved", auto_now=True)
    created_at = models.DateTimeField("first saved", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, editable=False, related_name="+"
    )
    # The last edit readers could see (CONTENT_FIELDS changed while live): dateModified.
    content_modified_at = models.DateTimeField("last edited after publication", null=True, blank=True, editable=False)
    update_note = models.CharField(
        "update note",
        max_length=300,
        blank=True,
        help_text="Shown to readers under the byline with the time, e.g. “Adds the mayor's response.”",
    )
    update_note_at = models.DateTimeField(null=True, blank=True, editable=False)
    correction = models.TextField(
        blank=True,
        max_length=2000,
        help_text="Shown at the foot of the story with the time, e.g. “An earlier version misspelled …”",
    )
    corrected_at = models.DateTimeField(null=True, blank=True, editable=False)
    access = models.CharField("who can read it", max_length=12, choices=Access.choices, default=Access.METERED)
    comments_open = models.BooleanField("readers can comment", default=True)
    send_as_email = models.BooleanField(
        "send as email",
        default=False,
        help_text="Email this story to readers who chose breaking news, once, when it goes live "
        "(also when it is scheduled). Subscribers get the full text, free readers the teaser.",
    )
    # Filled on PostgreSQL only (title weighted A, summary B, body C); see save().
    search_vector = SearchVectorField(null=True, blank=True, editable=False)
    # The same over the public text only (title, summary, teaser): what a reader who may
    # not read the article in full is allowed to match it by (articles/search.py).
    public_search_vector = SearchVectorField(null=True, blank=True, editable=False)
    # Where an imported story came from (`manage.py import_archive`, articles/imports/): the old
    # system and its own id, unique together, so a second import updates instead of duplicating.
    # Blank for the newsroom's own stories.
    import_source = models.CharField(
        "imported from", max_length=20, blank=True, default="", choices=IMPORT_SOURCES, editable=False
    )
    import_id = models.CharField("id in the old system", max_length=100, blank=True, default="", editable=False)
    # A fingerprint of the story as the export had it: the same export again is "unchanged", not re-saved.
    import_digest = models.CharField(max_length=64, blank=True, default="", editable=False)
    # The main picture's address on the old site. Kept when its file was not in the export's
    # folder (the story then has no main picture here: add it in the admin), and to know an
    # unchanged picture on the next run without copying it again.
    import_hero_url = models.CharField(
        "main picture on the old site", max_length=1000, blank=True, default="", editable=False
    )

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-publish_at", "-id"]
        indexes = [
            models.Index(fields=["status", "publish_at"]),
            # Section pages and "More from": newest first within one category, at any archive size;
            # with the status included, a section's article count is an index-only scan.
            models.Index(fields=["category", "-publish_at"], include=["status"], name="article_category_recent"),
            # The few stories with pictures in their body (showing_picture: a corrected picture redraws them).
            models.Index(
                fields=["id"], condition=models.Q(body__iregex=rendering.ANY_IMAGE), name="article_with_pictures"
            ),
        ]
        permissions = [("publish_article", "Can publish and schedule articles")]
        constraints = [
            models.UniqueConstraint(
                fields=["import_source", "import_id"],
                condition=~models.Q(import_source=""),
                name="article_unique_import",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        if not self.slug:
            self.slug = slugify(self.title)[:200]
        self._stamp_edits()
        self.word_count = rendering.word_count(self.body)
        self.body_html = rendering.render_body(self.body, images=InlineImage.objects.in_bulk)
        self.teaser_html, self.body_html = rendering.split_body(self.body_html, settings.TEASER_PARAGRAPHS)
        if self.hero_image and self.hero_renditions.get("source") != self.hero_image.name:
            if not getattr(self.hero_image, "_committed", True):
                self.hero_image.save(self.hero_image.name, self.hero_image.file, save=False)
            self.hero_renditions = images.make_renditions(self.hero_image)
        elif not self.hero_image:
            self.hero_renditions = {}
        super().save(*args, **kwargs)
        update_search_vector(self.pk)

    def get_absolute_url(self) -> str:
        return reverse("articles:detail", kwargs={"slug": self.slug})

    def clean(self) -> None:
        """A web address the site's own pages answer first ("search", "subscribe",
        "account", …) would never show the story: refused, whichever URL it is."""
        super().clean()
        slug = self.slug or slugify(self.title)[:200]
        if not slug:
            return
        try:
            reachable = resolve(f"/{slug}/").view_name == "articles:detail"
        except Resolver404:
            reachable = False
        if not reachable:
            raise ValidationError({"slug": f"/{slug}/ is one of the site's own pages: choose another web address."})

    def _stamp_edits(self) -> None:
        """Time the update note, the correction and any edit readers can see."""
        before = type(self).objects.filter(pk=self.pk).values(*CONTENT_FIELDS).first() if self.pk else None
        now = timezone.now()
        if before is None:
            before = dict.fromkeys(CONTENT_FIELDS, "")
        elif self.is_live and any(before[f] != _plain(getattr(self, f)) for f in CONTENT_FIELDS):
            self.content_modified_at = now
        if self.update_note != before["update_note"]:
            self.update_note_at = now if self.update_note else None
        if self.correction != before["correction"]:
            self.corrected_at = now if self.correction else None

    def mark_edited(self) -> None:
        """An edit the field comparison cannot see (a restored revision): stamp it."""
        if self.is_live:
            self.content_modified_at = timezone.now()

    @property
    def modified_at(self):
        """dateModified: the last real edit after publication, else the publication itself."""
        return max(self.content_modified_at, self.publish_at) if self.content_modified_at else self.publish_at

    @property
    def topics(self) -> list[Tag]:
        """The article's topics: from the rows the article page's query annotates
        (articles/views.py, PostgreSQL), else from its tags."""
        return self._annotated_or_related("topic_rows", Tag, self.tags)

    # What the article page shows of each author (byline and author boxes).
    BYLINE_FIELDS = ("id", "name", "slug", "role", "bio", "photo")

    @property
    def byline(self) -> list[Author]:
        """The article's authors, by name: from the rows the article page's query annotates
        (articles/views.py, PostgreSQL), else from its authors."""
        return self._annotated_or_related("byline_rows", Author, self.authors)

    def _annotated_or_related(self, annotation: str, model, related) -> list:
        """Objects built from JSON rows the query annotated under `annotation`, else read through `related`."""
        rows = getattr(self, annotation, None)
        if rows is not None:
            return [model(**row) for row in rows]
        return list(related.all())

    @property
    def reading_minutes(self) -> int:
        return rendering.reading_minutes(self.word_count)

    @property
    def is_live(self) -> bool:
        return self.status != self.Status.DRAFT and self.publish_at <= timezone.now()

    @property
    def in_review(self) -> bool:
        """A draft its writer submitted, waiting for an editor."""
        return self.status == self.Status.DRAFT and self.review_requested_at is not None

    @property
    def is_free(self) -> bool:
        return self.access == self.Access.FREE


def _plain(value):
    """A field's value as .values() returns it (a file field's name, not the file)."""
    return (value.name or "") if hasattr(value, "field") else value


# Weighted tsvectors for PostgreSQL full-text search (see articles/search.py): the
# whole text, and the public text only. The teaser is HTML; PostgreSQL's parser
# skips its tags. Migration articles/0005 fills existing rows with the same SQL.
UPDATE_SEARCH_VECTORS = """
    UPDATE articles_article SET
        search_vector =
            setweight(to_tsvector('english', coalesce(title, '')), 'A') ||
            setweight(to_tsvector('english', coalesce(standfirst, '')), 'B') ||
            setweight(to_tsvector('english', coalesce(body, '')), 'C'),
        public_search_vector =
            setweight(to_tsvector('english', coalesce(title, '')), 'A') ||
            setweight(to_tsvector('english', coalesce(standfirst, '')), 'B') ||
            setweight(to_tsvector('english', coalesce(teaser_html, '')), 'C')
"""


def update_search_vector(*article_ids: int) -> None:
    """Both search vectors of these articles (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(UPDATE_SEARCH_VECTORS + " WHERE id = ANY(%s)", [list(article_ids)])


# A username no sign-up can produce (the username validators refuse "<", ">" and spaces).
DELETED_READER_USERNAME = "<deleted reader>"


def deleted_reader():
    """The inactive stand-in author of comments whose writer deleted their account.

    Deleting a reader's comments would take other readers' replies with them
    (replies cascade from their parent), so the comments stay and are shown as
    by "Deleted reader"; nothing in them points to the person any more."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    user, _ = get_user_model().objects.get_or_create(
        username=DELETED_READER_USERNAME,
        defaults={"first_name": "Deleted", "last_name": "reader", "is_active": False, "password": make_password(None)},
    )
    return user


class Comment(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="comments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET(deleted_reader), related_name="comments")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies")
    body = models.TextField(max_length=5000)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    is_hidden = models.BooleanField(default=False, help_text="Hidden comments are not shown to readers.")
    # Guards against double submits: one token per rendered form.
    submit_token = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "submit_token"],
                condition=~models.Q(submit_token=""),
                name="comment_unique_submit_token",
            )
        ]

    def __str__(self) -> str:
        return f"Comment by {self.user} on {self.article}"


class CommentReport(models.Model):
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="reports")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comment_reports")
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["comment", "user"], name="one_report_per_user")]

    def __str__(self) -> str:
        return f"Report on comment {self.comment_id}"


class GiftQuerySet(models.QuerySet):
    def live(self) -> GiftQuerySet:
        """Not revoked and not expired (whether the giver may still give is access.py's question)."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class Gift(models.Model):
    """A link that lets anyone read one article in full (articles/gifts.py).

    The token is the secret; it opens only `article`, until `expires_at`, while
    not revoked and while its giver may still read the article themselves."""

    token = models.CharField(max_length=64, unique=True)
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="gifts")
    giver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gifts")
    label = models.CharField(max_length=120, blank=True, help_text="Staff only: where the link is shared.")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    opens = models.PositiveIntegerField(default=0)

    objects = GiftQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["giver", "created_at"])]

    def __str__(self) -> str:
        return f"gift of {self.article} by {self.giver}"

    def get_absolute_url(self) -> str:
        return f"{self.article.get_absolute_url()}?gift={self.token}"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class Page(models.Model):
    """A page about the newsroom itself (who we are, how to reach us, how we correct,
    what we do with data, the terms), written by editors in the admin in the same
    Markdown as stories and rendered once, on save, by the same code."""

    class Slug(models.TextChoices):
        ABOUT = "about", "About us and the masthead"
        CONTACT = "contact", "Contact"
        CORRECTIONS = "corrections", "Corrections policy"
        PRIVACY = "privacy", "Privacy policy"
        TERMS = "terms", "Terms of use"

    slug = models.CharField("Page", max_length=20, unique=True, choices=Slug.choices)
    title = models.CharField("Headline", max_length=200)
    body = models.TextField("Text", help_text="Markdown, as in stories: blank line between paragraphs, ## Subheading.")
    body_html = models.TextField(editable=False, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        # No paywall on these pages: a stray "[paywall]" line is dropped, not marked.
        self.body_html = rendering.render_body(self.body).replace(rendering.PAYWALL_MARKER, "")
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "body_html"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse(f"articles:page_{self.slug}")


class DeskEmailChoice(models.Model):
    """What the desk emails an editor about. Off unless the editor turns it on (on the desk's
    "Waiting for review" column): a story submitted for review (articles/desk_emails.py)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="desk_emails")
    review_submitted = models.BooleanField("email me when a story is submitted for review", default=False)

    def __str__(self) -> str:
        return f"{self.user}: review emails {'on' if self.review_submitted else 'off'}"
