"""Signals other apps may listen to (subscriptions does not import them).

`subscription_started` is sent by billing.sync_subscription, inside its transaction,
when a subscription first gives access (trialing or active from nothing or incomplete) —
once per subscription, since the row is locked and compared with what it was. A
subscription adopted from another site starts at its status and is no start. Receivers
that send anything should do it with transaction.on_commit.
"""

from django.dispatch import Signal

subscription_started = Signal()  # sender=Subscription, subscription=<Subscription>
