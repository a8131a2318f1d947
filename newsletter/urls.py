from django.urls import path

from . import views

app_name = "newsletter"

urlpatterns = [
    path("account/emails/", views.preferences, name="preferences"),
    path("newsletter/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
