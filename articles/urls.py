from django.urls import path
from django.views.generic import TemplateView

from newsroom.shared_cache import shareable_view

from . import comment_views, feeds, gift_views, page_cache, site_pages, views

app_name = "articles"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", shareable_view(page_cache.listing(views.SearchView.as_view())), name="search"),
    path("feed/", shareable_view(feeds.LatestFeed()), name="feed"),
    # What feeds are and which there are: the footer's "Feeds" link, for readers who have never used one.
    path("feeds/", shareable_view(TemplateView.as_view(template_name="articles/feeds.html")), name="feeds"),
    # About, contact, corrections, privacy, terms: before the article page, so Article.clean refuses them.
    *[path(f"{slug}/", site_pages.page, {"slug": slug}, name=f"page_{slug}") for slug in site_pages.SLUGS],
    # The article page is asked for most: tried right after the only other one-segment
    # addresses here (every pattern below has two segments or more, so none is shadowed).
    path("<slug:slug>/", views.article_detail, name="detail"),
    path("category/<slug:slug>/", shareable_view(page_cache.listing(views.CategoryView.as_view())), name="category"),
    path("category/<slug:slug>/feed/", shareable_view(feeds.CategoryFeed()), name="category_feed"),
    path("author/<slug:slug>/", shareable_view(page_cache.listing(views.AuthorView.as_view())), name="author"),
    path("topic/<slug:slug>/", shareable_view(page_cache.listing(views.TagView.as_view())), name="tag"),
    path("topic/<slug:slug>/feed/", shareable_view(feeds.TagFeed()), name="tag_feed"),
    path("feed/private/<str:token>/", feeds.PrivateFeed(), name="private_feed"),
    path("gifts/<int:pk>/revoke/", gift_views.gift_revoke, name="gift_revoke"),
    path("<slug:slug>/gift/", gift_views.gift_create, name="gift"),
    path("<slug:slug>/comments/", comment_views.comment_post, name="comment_post"),
    path("<slug:slug>/comments/<int:pk>/edit/", comment_views.comment_edit, name="comment_edit"),
    path("<slug:slug>/comments/<int:pk>/delete/", comment_views.comment_delete, name="comment_delete"),
    path("<slug:slug>/comments/<int:pk>/report/", comment_views.comment_report, name="comment_report"),
]
