from django.urls import path

from . import views

app_name = "subscriptions"

urlpatterns = [
    path("subscribe/", views.pricing, name="pricing"),
    path("account/", views.account, name="account"),
]
