"""Signal receivers (imported by GrowthConfig.ready): count sign-ups and subscriptions where
they happen, so no view or webhook needs to know about attribution."""

from allauth.account.signals import user_signed_up
from django.db.models.signals import post_save
from django.dispatch import receiver

from subscriptions.models import Subscription

from . import attribution


@receiver(user_signed_up)
def record_signup(sender, request, user, **kwargs) -> None:
    attribution.origin_record_signup(request, user)


@receiver(post_save, sender=Subscription)
def record_subscription(sender, instance: Subscription, **kwargs) -> None:
    attribution.subscription_conversions(instance)
