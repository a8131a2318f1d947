from __future__ import annotations

from django import forms

from .models import EmailSignup, Preference


class SignupNewsletterForm(forms.Form):
    """Extra fields on allauth's sign-up form (ACCOUNT_SIGNUP_FORM_CLASS); allauth calls signup()."""

    newsletter_digest = forms.BooleanField(
        label="Email me the morning digest: the day's stories, every morning", required=False, label_suffix=""
    )
    newsletter_breaking = forms.BooleanField(label="Email me breaking news", required=False, label_suffix="")

    def signup(self, request, user) -> None:
        # The reader answered both questions: an unticked box is "no", stored as such, so
        # the subscribers' default digest (Preference.digest None) never reaches them.
        answers = self.cleaned_data
        choices = {"digest": answers["newsletter_digest"], "breaking": answers["newsletter_breaking"]}
        # A reader who already confirmed the email-only digest keeps it with their account.
        if EmailSignup.objects.filter(
            email__iexact=user.email, confirmed_at__isnull=False, unsubscribed_at__isnull=True
        ).exists():
            choices["digest"] = True
        Preference.objects.update_or_create(user=user, defaults=choices)


class PreferencesForm(forms.Form):
    digest = forms.BooleanField(label="The morning digest: the day's stories, every morning", required=False)
    breaking = forms.BooleanField(label="Breaking news: big stories as they go live", required=False)


# What the reader agrees to, stored with their sign-up (shown beside the form).
EMAIL_SIGNUP_CONSENT = "Email me the free morning digest. One email a day; unsubscribe from any of them."
EMAIL_SIGNUP_SOURCES = ("home", "article", "footer", "paywall", "page")


class EmailSignupForm(forms.Form):
    email = forms.EmailField(label="Your email address", max_length=254)
    source = forms.CharField(required=False, max_length=20)

    def clean_source(self) -> str:
        source = self.cleaned_data.get("source", "")
        return source if source in EMAIL_SIGNUP_SOURCES else ""
