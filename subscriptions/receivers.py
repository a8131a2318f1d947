"""Signal receivers (imported by SubscriptionsConfig.ready): share today's reads between
browser and account when a reader logs in or out; forget cached entitlements and the
advertised plan when what they come from changes; give Stripe a reader's new email."""

from allauth.account.models import EmailAddress
from allauth.account.signals import email_changed
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import access, billing, meter
from .models import ComplimentaryAccess, Subscription


@receiver(user_logged_in)
def share_meter_on_log_in(sender, request, user, **kwargs) -> None:
    if request is not None:
        meter.share_todays_reads(request, user, leaving=False)


@receiver(user_logged_out)
def share_meter_on_log_out(sender, request, user, **kwargs) -> None:
    if request is not None and user is not None:
        meter.share_todays_reads(request, user, leaving=True)


@receiver([post_save, post_delete], sender=Subscription)
@receiver([post_save, post_delete], sender=ComplimentaryAccess)
@receiver([post_save, post_delete], sender=EmailAddress)
def forget_entitlement(sender, instance, **kwargs) -> None:
    access.forget_entitlement(instance.user_id)


@receiver([post_save, post_delete], sender=settings.AUTH_USER_MODEL)
def forget_users_entitlement(sender, instance, **kwargs) -> None:
    access.forget_entitlement(instance.pk)


@receiver(email_changed)
def tell_stripe_the_new_email(sender, request, user, to_email_address, **kwargs) -> None:
    # Once the change is saved; a Stripe outage is logged and mended by stripe_reconcile.
    transaction.on_commit(lambda: billing.customer_email_update(user=user))
