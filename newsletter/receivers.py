"""Signal receivers (imported by NewsletterConfig.ready): the two welcome emails' triggers.

A new free account is welcomed when its address is confirmed, not when the account is
made: sign-up requires the confirmation (ACCOUNT_EMAIL_VERIFICATION = "mandatory"), an
unconfirmed address may be a typo or someone else's, and the newsletter mails only proven
addresses. allauth confirms through one flow (link, code log-in), which sends
`email_confirmed`. A later change of address is confirmed the same way, so only accounts
made since the welcome was turned on are counted as new.

A new subscriber is welcomed when a subscription first gives access (trialing or active),
as billing.sync_subscription says with `subscription_started`, from the webhook, the
Checkout success page or reconcile alike.
"""

from allauth.account.signals import email_confirmed
from django.dispatch import receiver

from subscriptions.models import Subscription
from subscriptions.signals import subscription_started

from .models import WelcomeEmail
from .welcome import welcome_queue


@receiver(email_confirmed)
def welcome_new_account(sender, request, email_address, **kwargs) -> None:
    user = email_address.user
    if email_address.email.lower() == (user.email or "").lower():
        welcome_queue(audience=WelcomeEmail.Audience.FREE, user=user, joined_at=user.date_joined)


@receiver(subscription_started, sender=Subscription)
def welcome_new_subscriber(sender, subscription: Subscription, **kwargs) -> None:
    if subscription.user_id is not None:
        welcome_queue(audience=WelcomeEmail.Audience.SUBSCRIBER, user=subscription.user)
