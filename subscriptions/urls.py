from django.urls import path

from growth import views as growth_views

from . import views, webhooks

app_name = "subscriptions"

urlpatterns = [
    path("subscribe/", views.pricing, name="pricing"),
    path("account/", views.account, name="account"),
    path("subscribe/checkout/", views.checkout, name="checkout"),
    path("subscribe/success/", views.success, name="success"),
    path("account/billing/", views.portal, name="portal"),
    path("account/feed/replace/", views.feed_replace, name="feed_replace"),
    path("stripe/webhook/", webhooks.stripe_webhook, name="webhook"),
    # Offers and gift subscriptions (growth/, docs/growth.md).
    path("offer/<slug:code>/", growth_views.offer, name="offer"),
    path("gift/", growth_views.gift, name="gift"),
    path("gift/thanks/", growth_views.gift_thanks, name="gift_thanks"),
    path("gift/redeem/<str:token>/", growth_views.redeem, name="redeem"),
]
