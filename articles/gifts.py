"""Gift links: a subscriber lets anyone read one article in full.

The link is the article's own address with `?gift=<token>`. The token is 32
random bytes and opens only the article it was made for. Whether it opens it
today is decided in subscriptions/access.py (the only paywall rule): this
module finds the live gift for a token and hands its giver to `access` as a
fact; access checks that the giver may still read everything (a lapsed
subscriber's links stop working).

A subscriber makes up to GIFT_ARTICLES_PER_MONTH links a calendar month (the
site's time zone); gifting the same article again gives back the live link it
already has, for free. The monthly count is exact under concurrency: the
giver's user row is locked while counting and creating. Staff have no limit
and label their links (for social media, partners).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import Article, Gift

TOKEN_MAX_LENGTH = 64


class GiftRefused(Exception):
    """The reader may not make this gift; the message says why, for the reader."""


def month_start() -> timezone.datetime:
    local = timezone.localtime()
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def gifts_left(user) -> int | None:
    """Links the reader may still make this month (None: no limit, staff)."""
    if user.is_staff:
        return None
    used = Gift.objects.filter(giver=user, created_at__gte=month_start()).count()
    return max(0, settings.GIFT_ARTICLES_PER_MONTH - used)


def gift_create(*, giver, article: Article, label: str = "") -> tuple[Gift, bool]:
    """The giver's live link to this article, made if needed: (gift, created).

    The caller has checked that the giver may gift at all (access.may_give_gifts)."""
    label = label.strip()[:120] if giver.is_staff else ""
    with transaction.atomic():
        # One giver's gifts are counted and created one request at a time.
        get_user_model().objects.select_for_update().filter(pk=giver.pk).first()
        existing = Gift.objects.live().filter(giver=giver, article=article, label=label).first()
        if existing is not None:
            return existing, False
        if not giver.is_staff:
            used = Gift.objects.filter(giver=giver, created_at__gte=month_start()).count()
            if used >= settings.GIFT_ARTICLES_PER_MONTH:
                raise GiftRefused(
                    f"You have gifted {settings.GIFT_ARTICLES_PER_MONTH} articles this month, the most a month "
                    "allows. You can gift more from the 1st."
                )
        now = timezone.now()
        gift = Gift.objects.create(
            token=secrets.token_urlsafe(32),
            article=article,
            giver=giver,
            label=label,
            created_at=now,
            expires_at=now + timedelta(days=settings.GIFT_LINK_DAYS),
        )
        return gift, True


def gift_revoke(*, giver, gift_id: int) -> bool:
    """Revoke one of the giver's own links; False when there is no such live link."""
    return bool(Gift.objects.filter(pk=gift_id, giver=giver, revoked_at__isnull=True).update(revoked_at=timezone.now()))


def find_gift(token: str, article: Article) -> Gift | None:
    """The live gift this token makes of this article, or None (unknown, other article, expired, revoked)."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    return Gift.objects.live().select_related("giver").filter(token=token, article=article).first()


def count_open(gift: Gift) -> None:
    Gift.objects.filter(pk=gift.pk).update(opens=F("opens") + 1)
