"""Making sends when they are due, and delivering them once to each reader.

`schedule()` creates what is due — today's digest after `NEWSLETTER_DAILY_HOUR`
(site-local time) and one send per live article marked "send as email" — each
with its delivery rows, in one transaction; the send's unique key makes a
second scheduler's attempt a no-op.

`Sender.run()` delivers. Each delivery is claimed with
`SELECT … FOR UPDATE SKIP LOCKED`, sent over a kept-open connection, and marked
sent in the same transaction: a sender killed mid-send never commits, so its
row goes back to pending when the database drops its connection and the next
run sends it; several senders at once each take rows the others do not hold.
The only window left is between the mail server's "250 OK" and our COMMIT (a
local round trip); a copy resent from there carries the same Message-ID.

Welcome emails ride the same rows: their sends never finish, each new reader's
delivery is added when they join (newsletter/welcome.py) and delivered at once
with `Sender.deliver_to`, or by the next run if the mail server was away.
"""

from __future__ import annotations

import logging
import smtplib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from articles.models import Article
from subscriptions import access
from subscriptions.models import ComplimentaryAccess, Subscription

from . import content
from .models import Delivery, EmailSignup, Preference, Send, WelcomeEmail

log = logging.getLogger(__name__)

try:  # a newsroom that sends through a provider (django-anymail) gets its rejections counted too
    from anymail.exceptions import AnymailRecipientsRefused
except ImportError:  # pragma: no cover - anymail is optional

    class AnymailRecipientsRefused(Exception):  # type: ignore[no-redef]
        pass


@dataclass(frozen=True)
class Plan:
    key: str
    kind: str
    subject: str
    articles: list[Article]


# --- What is due -------------------------------------------------------------------------------


def digest_articles(cutoff: datetime) -> list[Article]:
    """The stories that went live in the 24 hours before `cutoff`, newest (the lead) first."""
    return list(
        Article.objects.published()
        .filter(publish_at__gt=cutoff - timedelta(days=1), publish_at__lte=cutoff)
        .select_related("category")
        .order_by("-publish_at", "-id")[: settings.NEWSLETTER_DIGEST_STORIES]
    )


def digest_subject(day, lead: Article) -> str:
    return f"{day:%A}'s digest: {lead.title}"


def due(now: datetime | None = None) -> list[Plan]:
    """The sends that should exist by now and do not yet."""
    now = now or timezone.now()
    plans = []
    local = timezone.localtime(now)
    if local.hour >= settings.NEWSLETTER_DAILY_HOUR:
        key = f"digest:{local.date().isoformat()}"
        if not Send.objects.filter(key=key).exists():
            cutoff = local.replace(hour=settings.NEWSLETTER_DAILY_HOUR, minute=0, second=0, microsecond=0)
            stories = digest_articles(cutoff)
            if stories:
                plans.append(Plan(key, Send.Kind.DIGEST, digest_subject(local.date(), stories[0]), stories))
    breaking = (
        Article.objects.published()
        .filter(send_as_email=True)
        .exclude(Exists(Send.objects.filter(article=OuterRef("pk"), kind=Send.Kind.BREAKING)))
        .select_related("category")
        .order_by("publish_at", "id")
    )
    for article in breaking:
        plans.append(Plan(f"breaking:{article.pk}", Send.Kind.BREAKING, article.title, [article]))
    return plans


def recipients(kind: str, now: datetime | None = None) -> QuerySet:
    """Active accounts with a verified address who (may) want this list.

    For the digest, readers who never chose are included when they might be
    subscribers; whether they are is asked of `access` when their turn comes."""
    now = now or timezone.now()
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    users = users.filter(
        Exists(EmailAddress.objects.filter(user=OuterRef("pk"), email__iexact=OuterRef("email"), verified=True))
    ).exclude(
        newsletter_preference__hard_bounces__gte=settings.NEWSLETTER_BOUNCE_LIMIT,
        newsletter_preference__bounced_email=F("email"),
    )
    if kind == Send.Kind.BREAKING:
        return users.filter(newsletter_preference__breaking=True)
    maybe_subscriber = Exists(Subscription.objects.entitling().filter(user=OuterRef("pk"))) | Exists(
        ComplimentaryAccess.objects.filter(user=OuterRef("pk"), until__gt=now)
    )
    return users.filter(
        Q(newsletter_preference__digest=True)
        | (Q(newsletter_preference__digest__isnull=True) & Q(is_staff=False) & maybe_subscriber)
    )


def signup_recipients() -> QuerySet[EmailSignup]:
    """Confirmed email-only readers (the digest's free edition), except addresses that now
    have an account: those readers' choices live on the account (`recipients`)."""
    return EmailSignup.objects.filter(confirmed_at__isnull=False, unsubscribed_at__isnull=True).exclude(
        Exists(get_user_model().objects.filter(email__iexact=OuterRef("email")))
    )


def create_send(plan: Plan) -> Send | None:
    """The send and all its delivery rows, or None if another scheduler made it first."""
    try:
        with transaction.atomic():
            send = Send.objects.create(
                key=plan.key,
                kind=plan.kind,
                article=plan.articles[0] if plan.kind == Send.Kind.BREAKING else None,
                article_ids=[a.pk for a in plan.articles],
                subject=plan.subject,
            )
            batch: list[Delivery] = []
            for user_id in recipients(plan.kind).values_list("pk", flat=True).order_by("pk").iterator(2000):
                batch.append(Delivery(send=send, user_id=user_id))
                if len(batch) == 2000:
                    Delivery.objects.bulk_create(batch)
                    batch = []
            Delivery.objects.bulk_create(batch)
            if plan.kind == Send.Kind.DIGEST:
                signups = signup_recipients().values_list("pk", flat=True).order_by("pk")
                Delivery.objects.bulk_create([Delivery(send=send, signup_id=pk) for pk in signups], batch_size=2000)
    except IntegrityError:
        return None
    return send


def schedule(now: datetime | None = None) -> list[Send]:
    return [send for plan in due(now) if (send := create_send(plan)) is not None]


# --- Who gets what -----------------------------------------------------------------------------


def wants(kind: str, user, pref: Preference | None, ent: access.Entitlement) -> bool:
    """Does this reader still want this list (and can we reach them)?"""
    if user is None or not user.is_active or not user.email:
        return False
    if pref is not None and pref.undeliverable(user.email):
        return False
    if kind == Send.Kind.WELCOME:  # no list: a one-off answer to joining, whatever lists they chose
        return True
    if kind == Send.Kind.BREAKING:
        return pref is not None and pref.breaking
    choice = pref.digest if pref is not None else None
    if choice is None:  # the default: subscribers get the digest
        return ent.entitled and not user.is_staff
    return choice


def preference(user) -> Preference | None:
    try:
        return user.newsletter_preference
    except Preference.DoesNotExist:
        return None


# --- Delivering --------------------------------------------------------------------------------


class MailServerUnavailable(Exception):
    """Connecting or authenticating failed: nothing was sent, try the next run."""


def _hard(exc: Exception) -> str | None:
    """The reason if the server refused this recipient for good (a 5xx), else None."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            code, text = next(iter(exc.recipients.values()))
            return f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
    if isinstance(exc, AnymailRecipientsRefused):
        return str(exc)
    return None


class Sender:
    def __init__(self, *, progress: Callable[[Counter], None] | None = None, limit: int | None = None) -> None:
        self.connection = None
        self.progress = progress
        self.limit = limit  # stop after this many deliveries (tests)
        self.counts: Counter = Counter()
        self._rendered: dict[tuple[int, tuple[bool, ...], bool], content.Rendered] = {}
        self._articles: dict[int, list[Article]] = {}
        self._welcomes: dict[int, content.Rendered | None] = {}

    def _connection(self):
        if self.connection is None:
            connection = get_connection(fail_silently=False)
            try:
                connection.open()
            except (OSError, smtplib.SMTPException) as exc:
                raise MailServerUnavailable(str(exc)) from exc
            self.connection = connection
        return self.connection

    def _drop_connection(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            except Exception:  # the connection is already broken; a fresh one comes next
                log.debug("closing a broken mail connection", exc_info=True)
            self.connection = None

    def close(self) -> None:
        self._drop_connection()

    def rendered(self, send: Send, ent: access.Entitlement, *, email_only: bool = False) -> content.Rendered | None:
        if send.pk not in self._articles:
            self._articles[send.pk] = content.send_articles(send)
        articles = self._articles[send.pk]
        if not articles:
            return None
        full = content.decisions(ent, articles)
        key = (send.pk, full, email_only)
        if key not in self._rendered:
            self._rendered[key] = content.render(send.kind, send.subject, articles, full, email_only=email_only)
        return self._rendered[key]

    def rendered_welcome(self, send: Send) -> content.Rendered | None:
        """The welcome as staff wrote it, while it is on (turned off, what is pending is skipped)."""
        if send.pk not in self._welcomes:
            welcome = WelcomeEmail.objects.filter(send=send, enabled=True).first()
            self._welcomes[send.pk] = content.render_welcome(welcome) if welcome is not None else None
        return self._welcomes[send.pk]

    def run(self) -> Counter:
        try:
            for send in Send.objects.filter(status=Send.Status.SENDING).order_by("id"):
                while self.limit is None or sum(self.counts.values()) < self.limit:
                    if not self.deliver_next(send):
                        break
                self.finish_if_done(send)
        finally:
            self.close()
        return self.counts

    def deliver_next(self, send: Send, *, user_id: int | None = None) -> bool:
        """Claim, send and record one pending delivery of `send` (to `user_id` only, when given);
        False when none is free."""
        now = timezone.now()
        pending = Delivery.objects.filter(send=send, status=Delivery.Status.PENDING)
        if user_id is not None:
            pending = pending.filter(user_id=user_id)
        with transaction.atomic():
            delivery = (
                pending.select_for_update(skip_locked=True, of=("self",))
                .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
                .select_related("user", "user__newsletter_preference", "signup")
                .order_by("id")
                .first()
            )
            if delivery is None:
                return False
            outcome = self._deliver(send, delivery)
            delivery.save(update_fields=["status", "full_text", "attempts", "retry_at", "sent_at", "error"])
        self.counts[outcome] += 1
        if self.progress:
            self.progress(self.counts)
        return True

    def _deliver(self, send: Send, delivery: Delivery) -> str:
        signup, user, pref = delivery.signup, delivery.user, None
        if delivery.signup_id is not None:
            # An email-only reader: the free edition, as the paywall answers a reader with no account.
            rendered = self.rendered(send, access.NONE, email_only=True)
            wanted = signup is not None and signup.receives_digest
        else:
            pref = preference(user) if user is not None else None
            if send.kind == Send.Kind.WELCOME:
                rendered = self.rendered_welcome(send)
                wanted = wants(send.kind, user, pref, access.NONE) and _verified(user)
            else:
                ent = access.user_entitlement(user)
                rendered = self.rendered(send, ent) if user is not None else None
                wanted = wants(send.kind, user, pref, ent)
        if rendered is None or not wanted:
            delivery.status = Delivery.Status.SKIPPED
            return "skipped"
        delivery.attempts += 1
        delivery.full_text = rendered.full_text
        msg = content.message(
            rendered,
            to=signup.email if signup is not None else user.email,
            kind=send.kind,
            user_id=user.pk if user is not None else None,
            signup_id=signup.pk if signup is not None else None,
            send_id=send.pk,
            message_id=f"{send.key.replace(':', '.')}.{delivery.pk}",
            connection=self._connection(),
        )
        try:
            msg.send()
        except (smtplib.SMTPException, OSError, AnymailRecipientsRefused) as exc:
            return self._failed(delivery, user, pref, exc)
        delivery.status = Delivery.Status.SENT
        delivery.sent_at = timezone.now()
        delivery.error = ""
        delivery.retry_at = None
        return "sent"

    def _failed(self, delivery: Delivery, user, pref: Preference | None, exc: Exception) -> str:
        if isinstance(exc, smtplib.SMTPSenderRefused | smtplib.SMTPAuthenticationError):
            raise MailServerUnavailable(str(exc)) from exc  # our side is wrong: not the reader's fault
        delivery.error = f"{type(exc).__name__}: {exc}"[:300]
        reason = _hard(exc)
        if reason is not None:
            if user is not None:  # an email-only reader's bounce is the delivery's alone
                record_hard_bounce(user=user, pref=pref, reason=reason)
            delivery.status = Delivery.Status.BOUNCED
            return "bounced"
        if isinstance(exc, smtplib.SMTPServerDisconnected | OSError):
            # The connection broke mid-send: the server did not accept it. Reconnect and send it again.
            self._drop_connection()
            delivery.retry_at = None
        else:  # a temporary (4xx) refusal: back off
            delivery.retry_at = timezone.now() + timedelta(minutes=min(2**delivery.attempts, 60))
        if delivery.attempts >= settings.NEWSLETTER_MAX_ATTEMPTS:
            delivery.status = Delivery.Status.FAILED
            return "failed"
        log.warning("newsletter delivery %s will be retried: %s", delivery.pk, delivery.error)
        return "retried"

    @staticmethod
    def finish_if_done(send: Send) -> None:
        if send.kind == Send.Kind.WELCOME:
            return  # open for as long as readers join
        if not send.deliveries.filter(status=Delivery.Status.PENDING).exists():
            Send.objects.filter(pk=send.pk, status=Send.Status.SENDING).update(
                status=Send.Status.DONE, finished_at=timezone.now()
            )


def _verified(user) -> bool:
    """Is the reader's current address one they proved (the only kind we mail)?"""
    return EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()


def record_hard_bounce(*, user, pref: Preference | None, reason: str) -> None:
    """Count an outright rejection of the reader's current address (a new address starts at zero)."""
    pref = pref or Preference.objects.get_or_create(user=user)[0]
    if pref.bounced_email.lower() != user.email.lower():
        pref.bounced_email, pref.hard_bounces = user.email, 0
    pref.hard_bounces += 1
    pref.last_bounce = reason[:300]
    pref.save(update_fields=["bounced_email", "hard_bounces", "last_bounce", "updated_at"])


def dry_run(now: datetime | None = None) -> Iterator[str]:
    """Who would get what, without writing or sending anything."""
    plans = due(now)
    pending = Send.objects.filter(status=Send.Status.SENDING).order_by("id")
    if not plans and not pending.exists():
        yield "Nothing is due."
    for plan in plans:
        stories = f"{len(plan.articles)} stor{'y' if len(plan.articles) == 1 else 'ies'}"
        yield f"Would create {plan.key}: “{plan.subject}” ({stories})"
        for user in recipients(plan.kind).select_related("newsletter_preference").order_by("pk").iterator(2000):
            yield "  " + _who(plan.kind, plan.articles, user)
    for send in pending:
        articles = content.send_articles(send)
        yield f"Would continue {send.key}: “{send.subject}”"
        rows = send.deliveries.filter(status=Delivery.Status.PENDING).select_related(
            "user", "user__newsletter_preference"
        )
        for delivery in rows.order_by("id").iterator(2000):
            if delivery.user is not None:
                yield "  " + _who(send.kind, articles, delivery.user)


def _who(kind: str, articles: list[Article], user) -> str:
    ent = access.user_entitlement(user)
    if not wants(kind, user, preference(user), ent):
        return f"{user.email}: skipped (not wanted or undeliverable)"
    if kind == Send.Kind.WELCOME:
        return f"{user.email}: welcome email"
    full = content.decisions(ent, articles)
    return f"{user.email}: {'full text' if full and full[0] else 'teaser'}"


def send_test(*, kind: str, articles: list[Article], subject: str, to_user, as_subscriber: bool) -> None:
    """The email as a subscriber or a free reader would get it, to an editor's own address."""
    ent = access.Entitlement(reason=access.Reason.SUBSCRIBER) if as_subscriber else access.NONE
    rendered = content.render(kind, subject, articles, content.decisions(ent, articles))
    who = "subscriber" if as_subscriber else "free reader"
    rendered = content.Rendered(f"[Test · as a {who}] {rendered.subject}", rendered.html, rendered.text, False)
    msg = content.message(
        rendered,
        to=to_user.email,
        kind=kind,
        user_id=to_user.pk,
        send_id=None,
        message_id=f"test.{timezone.now().timestamp()}.{to_user.pk}",
    )
    msg.send()
