"""Signal receivers (imported by SubscriptionsConfig.ready): carry an anonymous reader's meter over when they log in;
forget cached entitlements and the advertised plan when what they come from changes."""

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import access, meter
from .models import DEFAULT_PLAN_CACHE_KEY, ComplimentaryAccess, Plan, Subscription


@receiver(user_logged_in)
def carry_meter_over(sender, request, user, **kwargs) -> None:
    if request is not None:
        meter.merge_anonymous_reads(request, user)


@receiver([post_save, post_delete], sender=Plan)
def forget_default_plan(sender, **kwargs) -> None:
    cache.delete(DEFAULT_PLAN_CACHE_KEY)


@receiver([post_save, post_delete], sender=Subscription)
@receiver([post_save, post_delete], sender=ComplimentaryAccess)
@receiver([post_save, post_delete], sender=EmailAddress)
def forget_entitlement(sender, instance, **kwargs) -> None:
    access.forget_entitlement(instance.user_id)


@receiver([post_save, post_delete], sender=settings.AUTH_USER_MODEL)
def forget_users_entitlement(sender, instance, **kwargs) -> None:
    access.forget_entitlement(instance.pk)
