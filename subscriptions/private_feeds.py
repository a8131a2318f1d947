"""Private full-text RSS addresses: one secret token per reader.

The address carries the token because feed readers cannot log in. Whoever
holds it reads as its owner: the full text of every article while the owner
may read everything (access.user_is_entitled), teasers once that lapses. A
replaced or unknown token is a 404. The feed itself is articles/feeds.py.
"""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction

from .models import FeedToken


def _new_token() -> str:
    return secrets.token_urlsafe(32)


def feed_token_get_or_create(*, user) -> FeedToken:
    try:
        return user.feed_token
    except FeedToken.DoesNotExist:
        pass
    try:
        with transaction.atomic():
            return FeedToken.objects.create(user=user, token=_new_token())
    except IntegrityError:  # another request made it first
        return FeedToken.objects.get(user=user)


def feed_token_replace(*, user) -> FeedToken:
    """A new token for the reader's feed; the old address stops working at once."""
    token, _ = FeedToken.objects.update_or_create(user=user, defaults={"token": _new_token()})
    return token


def feed_owner(token: str):
    """The reader whose feed this token opens, or None."""
    if not token or len(token) > 64:
        return None
    row = FeedToken.objects.select_related("user").filter(token=token, user__is_active=True).first()
    return row.user if row else None
