from allauth.account import forms as allauth_forms
from django.contrib.auth.hashers import make_password
from django.http import HttpRequest


class SignupForm(allauth_forms.SignupForm):
    """allauth's sign-up form, costing the same whether the address has an account or not.

    A new account's password is hashed (a deliberately slow key derivation); for an
    address that already has an account allauth only sends an email, so without this
    the answer time alone told who reads here (9 ms against 330 ms). Hash the offered
    password anyway and throw the hash away.
    """

    def try_save(self, request: HttpRequest) -> tuple:
        if self.account_already_exists:
            make_password(self.cleaned_data.get("password1") or "")
        return super().try_save(request)
