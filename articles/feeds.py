"""RSS feeds. Each item shows what subscriptions.access decides for anyone
(no reader, no credit): a non-free article's item carries its teaser only,
whoever asks — feed readers are shared caches as far as we are concerned.

Every link is absolute on SITE_URL: Django's syndication would otherwise prefix
the Sites framework's domain, whose row nobody edits (it says example.com)."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.feedgenerator import Rss201rev2Feed
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from subscriptions import access, private_feeds

from .models import Article, Category, Tag

FEED_SIZE = 30


def _latest(queryset):
    return queryset.select_related("category").prefetch_related("authors", "tags").order_by("-publish_at", "-id")


def public_url(path: str) -> str:
    """The address readers use for this path (SITE_URL, never the Sites row)."""
    return settings.SITE_URL + path


class LatestFeed(Feed):
    feed_type = Rss201rev2Feed
    title = "Latest stories"
    description = "The newest journalism from the newsroom."

    def link(self) -> str:
        return public_url("/")

    def feed_url(self) -> str:
        return public_url(reverse("articles:feed"))

    def item_link(self, item: Article) -> str:
        return public_url(item.get_absolute_url())

    def items(self):
        return _latest(Article.objects.published())[:FEED_SIZE]

    def item_title(self, item: Article) -> str:
        return item.title

    def item_description(self, item: Article) -> str:
        decision = access.decide_for_user(None, item)
        visible = access.visible_html(item, decision)
        return visible if decision.full else format_html("<p>{}</p>{}", item.standfirst, mark_safe(visible))

    def item_pubdate(self, item: Article):
        return item.publish_at

    def item_updateddate(self, item: Article):
        return item.updated_at

    def item_author_name(self, item: Article) -> str:
        return ", ".join(a.name for a in item.authors.all())

    def item_categories(self, item: Article) -> list[str]:
        return [item.category.name, *(t.name for t in item.tags.all())]


class CategoryFeed(LatestFeed):
    def get_object(self, request, slug: str) -> Category:
        return get_object_or_404(Category, slug=slug)

    def title(self, obj: Category) -> str:
        return f"{obj.name}: latest stories"

    def link(self, obj: Category) -> str:
        return public_url(obj.get_absolute_url())

    def feed_url(self, obj: Category) -> str:
        return public_url(reverse("articles:category_feed", kwargs={"slug": obj.slug}))

    def description(self, obj: Category) -> str:
        return obj.description or f"The newest {obj.name} stories."

    def items(self, obj: Category):
        return _latest(Article.objects.published().filter(category=obj))[:FEED_SIZE]


class TagFeed(LatestFeed):
    def get_object(self, request, slug: str) -> Tag:
        return get_object_or_404(Tag, slug=slug)

    def title(self, obj: Tag) -> str:
        return f"{obj.name}: latest stories"

    def link(self, obj: Tag) -> str:
        return obj.get_absolute_url()

    def description(self, obj: Tag) -> str:
        return f"The newest stories about {obj.name}."

    def items(self, obj: Tag):
        return _latest(Article.objects.published().filter(tags=obj))[:FEED_SIZE]


class PrivateFeed(LatestFeed):
    """A reader's own feed at a secret address (subscriptions/private_feeds.py):
    full text while access says its owner may read everything, teasers after."""

    title = "Latest stories — your private feed"
    description = "Full text for subscribers. This address is personal: don't share it."

    def __call__(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = super().__call__(request, *args, **kwargs)
        response["X-Robots-Tag"] = "noindex, nofollow"
        response["Referrer-Policy"] = "no-referrer"
        patch_cache_control(response, private=True, no_cache=True)
        return response

    def get_object(self, request: HttpRequest, token: str):
        owner = private_feeds.feed_owner(token)
        if owner is None:
            raise Http404("No such feed.")
        return owner

    def feed_url(self, obj) -> str:
        # Its own address, not the public feed's: feed readers follow rel="self".
        return public_url(reverse("articles:private_feed", kwargs={"token": obj.feed_token.token}))

    def items(self, obj):
        # Decided per item here, on this request's own objects: the Feed instance is shared
        # by every request (and thread), so nothing per reader may be kept on it.
        ent = access.user_entitlement(obj)
        items = list(super().items())
        for item in items:
            item.full_for_owner = access.may_read_in_full(ent, item)  # as its owner, without the meter
        return items

    def item_description(self, item: Article) -> str:
        if item.full_for_owner:
            return item.body_html
        return super().item_description(item)
