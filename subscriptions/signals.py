"""Signal receivers: carry an anonymous reader's meter over when they log in."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from . import meter


@receiver(user_logged_in)
def carry_meter_over(sender, request, user, **kwargs) -> None:  # noqa: ANN001
    if request is not None:
        meter.merge_anonymous_reads(request, user)
