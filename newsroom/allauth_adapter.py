"""allauth's account adapter, changed in one thing: the client's address.

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
