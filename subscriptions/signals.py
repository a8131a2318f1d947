"""Signal receivers: carry an anonymous reader's meter over when they log in."""

from django.contrib.auth.signals import user_logged_in
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import meter
from .models import DEFAULT_PLAN_CACHE_KEY, Plan


@receiver(user_logged_in)
def carry_meter_over(sender, request, user, **kwargs) -> None:  # noqa: ANN001
    if request is not None:
        meter.merge_anonymous_reads(request, user)


@receiver([post_save, post_delete], sender=Plan)
def forget_default_plan(sender, **kwargs) -> None:  # noqa: ANN001
    cache.delete(DEFAULT_PLAN_CACHE_KEY)
