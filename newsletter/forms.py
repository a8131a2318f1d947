from __future__ import annotations

from django import forms

from .models import Preference


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
        Preference.objects.update_or_create(user=user, defaults=choices)


class PreferencesForm(forms.Form):
    digest = forms.BooleanField(label="The morning digest: the day's stories, every morning", required=False)
    breaking = forms.BooleanField(label="Breaking news: big stories as they go live", required=False)
