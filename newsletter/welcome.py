"""Welcome emails: each reader is sent each one once, and only while staff have it on.

When a reader joins (newsletter/receivers.py: a free account when its address is
confirmed, a subscriber when a subscription first gives access) `welcome_queue`
adds their delivery row to the welcome's Send in the caller's transaction — a
webhook's, say — so the record of "this reader is owed a welcome" commits or
rolls back with the change that earned it. The row is unique per (send, reader):
a second trigger (a redelivered event, a second confirmation) adds nothing.

The email goes out after the commit, through the newsletter's Sender (claimed,
sent and marked in one transaction, as every newsletter delivery is). If the mail
server is away then, the row stays pending and `manage.py send_newsletter` sends
it on its next run.
"""

from __future__ import annotations

import logging

from django.db import transaction

from . import sending
from .models import Delivery, WelcomeEmail

log = logging.getLogger(__name__)


def welcome_queue(*, audience: str, user, joined_at=None) -> bool:
    """Owe `user` the `audience` welcome, if it is on (and, with `joined_at`, they joined since
    it was turned on), and send it after the commit. True when it is on for them; adding
    them twice is harmless (their row is unique)."""
    welcome = WelcomeEmail.objects.filter(audience=audience, enabled=True).select_related("send").first()
    if welcome is None or user is None or not user.email:
        return False
    if joined_at is not None and welcome.enabled_at is not None and joined_at < welcome.enabled_at:
        return False
    # ON CONFLICT DO NOTHING: no error, so the caller's transaction goes on whether the row is new or not.
    Delivery.objects.bulk_create([Delivery(send=welcome.send, user=user)], ignore_conflicts=True)
    send, user_id = welcome.send, user.pk
    transaction.on_commit(lambda: welcome_deliver(send=send, user_id=user_id))
    return True


def welcome_deliver(*, send, user_id: int) -> None:
    """Send the reader's pending welcome now. Nothing happens if it went already (or another
    process holds it); a mail server that cannot be reached leaves it to the next run."""
    sender = sending.Sender()
    try:
        sender.deliver_next(send, user_id=user_id)
    except Exception:  # the reader's sign-up or the webhook must not fail because of mail
        log.exception("welcome email %s to user %s not sent now; send_newsletter will retry", send.key, user_id)
    finally:
        sender.close()
