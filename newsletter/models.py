"""Who wants which emails, what went out, and to whom.

A `Send` is one mailing (a day's digest, or one article marked "send as
email"); its unique `key` makes each go out once however many schedulers run.
A `Delivery` is one (send, reader) pair, created with the send; the sender
claims pending rows one at a time (`SELECT … FOR UPDATE SKIP LOCKED`) and
marks each sent in the same transaction that held it, so a killed sender
leaves its row pending for the next run and several senders never share one.

A `WelcomeEmail` is written by staff; each has one `Send` (kind "welcome") that
never finishes: a reader's welcome is a delivery row added to it when they join,
and the row's uniqueness is what makes it go out once (newsletter/welcome.py).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

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
        WELCOME = "welcome", "Welcome email"

    # The lists a reader chooses (and unsubscribes from); a welcome email is no list.
    LISTS = (Kind.DIGEST, Kind.BREAKING)

    class Status(models.TextChoices):
        SENDING = "sending", "Sending"
        DONE = "done", "Done"

    key = models.CharField(
        max_length=64, unique=True, help_text="digest:<date>, breaking:<article id> or welcome:<audience>"
    )
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


def _one_line(value: str) -> None:
    if any(ch in value for ch in "\r\n\x00"):
        raise ValidationError("A subject is one line.")


class WelcomeEmail(models.Model):
    """What a new free reader or a new subscriber is sent once, written by staff; off until turned on."""

    class Audience(models.TextChoices):
        FREE = "free", "A new free account"
        SUBSCRIBER = "subscriber", "A new subscriber"

    audience = models.CharField(max_length=10, choices=Audience.choices, unique=True)
    subject = models.CharField(max_length=200, validators=[_one_line])
    body = models.TextField(
        help_text="Markdown, as in stories: a blank line between paragraphs, **bold**, *italic*, "
        "[a link](https://…), lists with “- ”. HTML of your own is removed."
    )
    enabled = models.BooleanField(
        "send it",
        default=False,
        help_text="Ticked, every reader who joins from now on gets it once (free accounts when they confirm "
        "their address; subscribers when their trial or subscription starts). Nobody who joined before "
        "it was turned on is sent it.",
    )
    enabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    send = models.OneToOneField(
        Send, null=True, blank=True, editable=False, on_delete=models.PROTECT, related_name="welcome"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["audience"]

    def __str__(self) -> str:
        return f"Welcome email to {self.get_audience_display().lower()}"

    def save(self, *args, **kwargs) -> None:
        """Turning it on starts the clock (who counts as new); its Send, the delivery log, is made once."""
        if self.enabled and self.enabled_at is None:
            self.enabled_at = timezone.now()
        elif not self.enabled:
            self.enabled_at = None
        if self.send_id is None:
            self.send, _ = Send.objects.get_or_create(
                key=self.send_key, defaults={"kind": Send.Kind.WELCOME, "subject": self.subject}
            )
        Send.objects.filter(pk=self.send_id).exclude(subject=self.subject).update(subject=self.subject)
        super().save(*args, **kwargs)

    @property
    def send_key(self) -> str:
        return f"welcome:{self.audience}"
