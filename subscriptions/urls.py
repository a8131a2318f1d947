from django.urls import path

from . import views, webhooks

app_name = "subscriptions"

urlpatterns = [
    path("subscribe/", views.pricing, name="pricing"),
    path("account/", views.account, name="account"),
    path("subscribe/checkout/", views.checkout, name="checkout"),
    path("subscribe/success/", views.success, name="success"),
    path("account/billing/", views.portal, name="portal"),
    path("stripe/webhook/", webhooks.stripe_webhook, name="webhook"),
]
