"""Emails from the desk to editors: "a story is waiting for your review".

Only editors who turned it on get one (DeskEmailChoice, off by default; they choose on the
desk), never the person who submitted the story. It is sent after the submission is
committed, so no editor is told about a story that was rolled back, and a mail server that
is down costs the writer nothing: their story is already on the desk, the error is logged.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse

from .models import Article, DeskEmailChoice

log = logging.getLogger(__name__)

PUBLISH_PERMISSION = "articles.publish_article"


def wants_review_emails(user) -> bool:
    return DeskEmailChoice.objects.filter(user=user, review_submitted=True).exists()


def review_emails_set(*, user, on: bool) -> None:
    DeskEmailChoice.objects.update_or_create(user=user, defaults={"review_submitted": on})


def review_recipients(*, exclude) -> list:
    """Active editors (who may publish) who asked to be emailed, except `exclude`."""
    users = (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, desk_emails__review_submitted=True)
        .exclude(pk=exclude.pk)
        .exclude(email="")
    )
    return [user for user in users if user.has_perm(PUBLISH_PERMISSION)]


def review_requested_send(*, article_id: int, submitted_by_id: int) -> int:
    """Email the editors who asked that this story waits for review; how many were sent."""
    article = Article.objects.filter(pk=article_id).first()
    submitter = get_user_model().objects.filter(pk=submitted_by_id).first()
    if article is None or submitter is None or not article.in_review:
        return 0
    recipients = review_recipients(exclude=submitter)
    if not recipients:
        return 0
    headline = " ".join(article.title.split())  # one line: it goes in the subject
    who = submitter.get_full_name() or submitter.email or submitter.get_username()
    link = settings.SITE_URL + reverse("admin:articles_article_change", args=[article.pk])
    desk = settings.SITE_URL + reverse("admin:articles_article_changelist")
    body = (
        f"{who} submitted a story for review:\n\n"
        f"    {headline}\n\n"
        f"Read it, then publish it or send it back with a note:\n{link}\n\n"
        f"You get this email because you asked for it on the desk. To stop, use "
        f"“Stop emailing me” under “Waiting for review”:\n{desk}\n"
    )
    messages = [
        EmailMessage(f"For review: {headline}", body, to=[editor.email]) for editor in recipients
    ]
    with get_connection() as connection:
        return connection.send_messages(messages) or 0


def review_requested_email_on_commit(*, article: Article, submitted_by) -> None:
    """Email the editors once the submission is committed (see the module's docstring)."""

    def send() -> None:
        try:
            review_requested_send(article_id=article.pk, submitted_by_id=submitted_by.pk)
        except Exception:  # the mail server's trouble, not the writer's: the story is on the desk
            log.exception("emailing the editors about story %s waiting for review failed", article.pk)

    transaction.on_commit(send)
