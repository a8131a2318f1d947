from django.urls import path

from . import views

app_name = "newsletter"

urlpatterns = [
    path("account/emails/", views.preferences, name="preferences"),
    path("newsletter/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("newsletter/", views.email_signup, name="signup"),
    path("newsletter/check-your-inbox/", views.email_signup_sent, name="signup_sent"),
    path("newsletter/confirm/<str:token>/", views.email_signup_confirm, name="signup_confirm"),
]
