from django.urls import path

from . import views

app_name = "subscriptions"

urlpatterns = [
    path("subscribe/", views.pricing, name="pricing"),
    path("account/", views.account, name="account"),
    path("subscribe/checkout/", views.checkout, name="checkout"),
    path("subscribe/success/", views.success, name="success"),
    path("account/billing/", views.portal, name="portal"),
    path("account/delete/", views.delete_account, name="delete_account"),
    path("account/feed/replace/", views.feed_replace, name="feed_replace"),
    path("stripe/webhook/", views.stripe_webhook, name="webhook"),
]
