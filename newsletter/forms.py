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
        digest = self.cleaned_data.get("newsletter_digest", False)
        breaking = self.cleaned_data.get("newsletter_breaking", False)
        if digest or breaking:  # leaving both unticked keeps the default (subscribers get the digest)
            Preference.objects.update_or_create(user=user, defaults={"digest": digest or None, "breaking": breaking})


class PreferencesForm(forms.Form):
    digest = forms.BooleanField(label="The morning digest: the day's stories, every morning", required=False)
    breaking = forms.BooleanField(label="Breaking news: big stories as they go live", required=False)
