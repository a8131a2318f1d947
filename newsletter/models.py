"""Who wants which emails, what went out, and to whom.

A `Send` is one mailing (a day's digest, or one article marked "send as
email"); its unique `key` makes each go out once however many schedulers run.
A `Delivery` is one (send, reader) pair, created with the send; the sender
claims pending rows one at a time (`SELECT … FOR UPDATE SKIP LOCKED`) and
marks each sent in the same transaction that held it, so a killed sender
leaves its row pending for the next run and several senders never share one.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from articles.models import Article


class Preference(models.Model):
    """A reader's choices, and what the mail servers said about their address."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="newsletter_preference"
    )
    # None only for an account whose reader was never asked (the sign-up form stores both
    # answers as given): subscribers among them get the digest, others do not.
    digest = models.BooleanField("daily digest", null=True, default=None)
    breaking = models.BooleanField("breaking news emails", default=False)
    # Hard rejections (5xx) of `bounced_email`; a new address starts clean.
    bounced_email = models.EmailField(blank=True)
    hard_bounces = models.PositiveSmallIntegerField(default=0)
    last_bounce = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Email choices of user {self.user_id}"

    def undeliverable(self, email: str) -> bool:
        """Has `email` been rejected outright often enough that we stop mailing it?"""
        return (
            bool(email)
            and self.bounced_email.lower() == email.lower()
            and self.hard_bounces >= settings.NEWSLETTER_BOUNCE_LIMIT
        )


class EmailSignup(models.Model):
    """A reader without an account who asked for the free digest by email alone.

    Double opt-in: the row is made on asking and counts only once the emailed link
    is followed (`confirmed_at`); `consent_text` is what the form said when they asked."""

    email = models.EmailField(unique=True)  # stored lower-cased: one row per address
    source = models.CharField(max_length=20, blank=True, help_text="Where the form was: home, article, footer, paywall")
    consent_text = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "email-only sign-up"

    def __str__(self) -> str:
        return self.email

    @property
    def receives_digest(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


class Send(models.Model):
    class Kind(models.TextChoices):
        DIGEST = "digest", "Daily digest"
        BREAKING = "breaking", "Breaking news"

    class Status(models.TextChoices):
        SENDING = "sending", "Sending"
        DONE = "done", "Done"

    key = models.CharField(max_length=64, unique=True, help_text="digest:<date> or breaking:<article id>")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    article = models.ForeignKey(Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="email_sends")
    # The stories, lead first, fixed when the send is made so a resumed send sends the same email.
    article_ids = models.JSONField(default=list)
    subject = models.CharField(max_length=250)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENDING, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        BOUNCED = "bounced", "Rejected by the mail server"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"  # no longer wanted or deliverable when its turn came

    send = models.ForeignKey(Send, on_delete=models.CASCADE, related_name="deliveries")
    # Kept (without the person) when an account is deleted, so a send's figures stay true.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # An email-only reader instead of an account (the digest's free edition).
    signup = models.ForeignKey(EmailSignup, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    full_text = models.BooleanField(null=True, help_text="Did this reader get the full text?")
    attempts = models.PositiveSmallIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["send", "user"], name="one_delivery_per_reader"),
            models.UniqueConstraint(fields=["send", "signup"], name="one_delivery_per_email_signup"),
        ]
        indexes = [models.Index(fields=["send", "id"], condition=models.Q(status="pending"), name="delivery_pending")]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        who = f"user {self.user_id}" if self.signup_id is None else f"email sign-up {self.signup_id}"
        return f"{self.send_id} → {who}: {self.status}"
