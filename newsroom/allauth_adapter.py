"""allauth's account adapter, changed in one thing: the client's address; and how a
reader is named to themselves (user_display).

allauth keys its log-in, sign-up, password-reset and login-code limits on
`get_client_ip`. Its own answer trusts a count of X-Forwarded-For entries
(ALLAUTH_TRUSTED_PROXY_COUNT) whoever sent them; ours believes the header only
from TRUSTED_PROXIES, the same answer the meter and the search limit get."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest

from .client_ip import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request: HttpRequest) -> str:
        return client_ip(request)


def user_display(user) -> str:
    """How allauth names a reader to themselves ("Successfully signed in as …", its emails):
    their name, else their email — never the generated username ("new39091182") they never chose.
    (ACCOUNT_USER_DISPLAY.) Not for what other readers see: comments keep email addresses private."""
    return user.get_full_name() or user.email or user.get_username()
