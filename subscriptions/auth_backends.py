"""The site's authentication backends: Django's and allauth's, loading the
logged-in reader through `access.account()` — the user with what their
entitlement is made of, from the shared cache — instead of a query a request."""

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend

from . import access


class _LoadsAccount:
    def get_user(self, user_id):
        user = access.account(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(_LoadsAccount, DjangoModelBackend):
    pass


class AuthenticationBackend(_LoadsAccount, AllauthBackend):
    pass
