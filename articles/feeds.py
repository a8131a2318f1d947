"""RSS feeds. A non-free article's item carries its teaser only, whoever asks:
feed readers are shared caches as far as we are concerned."""

from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.utils.feedgenerator import Rss201rev2Feed

from .models import Article, Category, Tag

FEED_SIZE = 30


def _latest(queryset):
    return queryset.select_related("category").prefetch_related("authors", "tags").order_by("-publish_at", "-id")


class LatestFeed(Feed):
    feed_type = Rss201rev2Feed
    title = "Latest stories"
    link = "/"
    description = "The newest journalism from the newsroom."

    def items(self):
        return _latest(Article.objects.published())[:FEED_SIZE]

    def item_title(self, item: Article) -> str:
        return item.title

    def item_description(self, item: Article) -> str:
        # Free articles in full; everything else: the summary and the public teaser.
        if item.is_free:
            return item.body_html
        return f"<p>{item.standfirst}</p>{item.teaser_html}"

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
        return obj.get_absolute_url()

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
