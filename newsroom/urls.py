from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from articles.sitemaps import sitemap_index, sitemap_section

from . import account_deletion, views
from .shared_cache import shareable_view

# The admin's own login form has no rate limit: send it through allauth's
# login (rate-limited, email verification) and let staff back in from there.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    # The index keeps the framework's URL name: templates and robots.txt reverse it.
    path("sitemap.xml", shareable_view(sitemap_index), name="django.contrib.sitemaps.views.sitemap"),
    path("sitemap-<slug:section>.xml", shareable_view(sitemap_section), name="sitemap_section"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("healthz", views.healthz, name="healthz"),
    path("account/delete/", account_deletion.delete_account, name="delete_account"),
    path("", include("subscriptions.urls")),  # before articles: its "subscribe/" and "account/" are one segment
    path("", include("newsletter.urls")),  # before articles: its "newsletter/" is one segment
    path("", include("articles.urls")),  # the article page ("<slug>/") early: it is asked for most
]

if settings.SERVE_MEDIA:
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", views.media),
    ]

handler400 = "newsroom.views.bad_request"
handler404 = "newsroom.views.page_not_found"
handler500 = "newsroom.views.server_error"
