"""Comments: only logged-in subscribers (and staff) with a verified email may
see or write them. Who may is decided by subscriptions.access.can_comment;
this module holds the rules for writing (length, rate, edit window, one level
of replies, ownership) and builds what the article page shows.

Everyone else learns that the story has a conversation, not what it says and
not how long it is (issue 33). We chose that over showing the first comment
as a sample: commenters wrote for a room only subscribers can enter, so
putting one of them, with their name, in front of every visitor, search
engine and shared cache would publish them to an audience they did not write
for; and a number is a tease that opens nothing. It also keeps the page
non-subscribers get free of any comment query and the same for every
anonymous reader, so it stays shared-cacheable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.utils import timezone

from newsroom import ratelimit
from newsroom.params import bounded_int
from subscriptions import access

from .models import Article, Comment, CommentReport

MAX_LENGTH = 3000
EDIT_WINDOW = timedelta(minutes=15)
PAGE_SIZE = 20
DRAFT_SESSION_KEY = "comment_draft"


class CommentError(Exception):
    """A comment could not be saved; the message is for the reader."""


@dataclass
class Thread:
    comment: Comment
    replies: list[Comment] = field(default_factory=list)


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise CommentError("Your comment is empty. Write something before posting.")
    if len(body) > MAX_LENGTH:
        raise CommentError(f"Comments can be at most {MAX_LENGTH} characters; yours has {len(body)}.")
    return body


def comment_create(*, user, article: Article, body: str, parent_id: int | None = None, token: str = "") -> Comment:
    """Post a comment or a reply. A second submit of the same form (same token)
    returns the first comment instead of creating another."""
    if not article.comments_open:
        raise CommentError("Comments are closed on this article.")
    body = _clean_body(body)
    token = (token or "")[:64]
    if token:
        existing = Comment.objects.filter(user=user, submit_token=token).first()
        if existing is not None:
            return existing
    parent = None
    if parent_id:
        parent = Comment.objects.filter(pk=parent_id, article=article, is_hidden=False).first()
        if parent is None:
            raise CommentError("The comment you replied to is no longer there.")
        parent = parent if parent.parent_id is None else parent.parent  # one level deep
    # At most COMMENTS_PER_MINUTE new comments per reader a minute, with the site's one rate limiter.
    if not ratelimit.hit("comment", str(user.pk), f"{settings.COMMENTS_PER_MINUTE}/m"):
        raise CommentError("You're posting very quickly. Please wait a minute and try again.")
    try:
        with transaction.atomic():
            return Comment.objects.create(article=article, user=user, parent=parent, body=body, submit_token=token)
    except IntegrityError:  # the same form submitted twice at the same moment
        return Comment.objects.get(user=user, submit_token=token)


def _own(user, comment_id: int) -> Comment:
    # Filtering by owner makes someone else's id indistinguishable from a missing one.
    comment = Comment.objects.filter(pk=comment_id, user=user).select_related("article").first()
    if comment is None:
        raise Http404("No such comment.")
    return comment


def can_edit(comment: Comment) -> bool:
    return timezone.now() - comment.created_at <= EDIT_WINDOW


def comment_edit(*, user, comment_id: int, body: str) -> Comment:
    comment = _own(user, comment_id)
    if not can_edit(comment):
        raise CommentError("Comments can only be edited in the first 15 minutes.")
    comment.body = _clean_body(body)
    comment.edited_at = timezone.now()
    comment.save(update_fields=["body", "edited_at"])
    return comment


def comment_delete(*, user, comment_id: int) -> Article:
    """Delete one's own comment (and the replies under it)."""
    comment = _own(user, comment_id)
    article = comment.article
    comment.delete()
    return article


def comment_report(*, user, comment_id: int, reason: str = "") -> None:
    comment = Comment.objects.filter(pk=comment_id, is_hidden=False).first()
    if comment is None:
        raise Http404("No such comment.")
    CommentReport.objects.get_or_create(comment=comment, user=user, defaults={"reason": reason.strip()[:300]})


def context_for(request: HttpRequest, article: Article) -> dict:
    """What the comment section shows this reader. Readers who may not see
    comments learn only whether there are any (from the count already on the
    article: no comment query), and what would let them in: a subscription, or,
    for a subscriber, confirming their email address."""
    ent = access.entitlement(request)
    if not access.may_comment(ent):
        return {
            "comments_visible": False,
            "comments_exist": bool(getattr(article, "comment_count", 0)),
            "comments_need_email": ent.entitled,  # a subscriber whose address is not confirmed yet
        }
    newest_first = request.GET.get("comments") == "newest"
    # A page past the last is simply empty; past 10,000 it is the same empty page (no huge OFFSET).
    page = bounded_int(request.GET.get("cpage"), default=1, low=1, high=10_000)
    order = ("-created_at", "-id") if newest_first else ("created_at", "id")
    top = (
        Comment.objects.filter(article=article, parent=None, is_hidden=False)
        .order_by(*order)
        .values("pk")[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1]
    )
    # One query for a page of threads and their replies, whatever its length.
    rows = list(
        Comment.objects.filter(Q(pk__in=top) | Q(parent_id__in=top), is_hidden=False)
        .select_related("user")
        .order_by("created_at", "id")
    )
    threads: dict[int, Thread] = {c.pk: Thread(c) for c in rows if c.parent_id is None}
    for c in rows:
        if c.parent_id is not None and c.parent_id in threads:
            threads[c.parent_id].replies.append(c)
    ordered = sorted(threads.values(), key=lambda t: (t.comment.created_at, t.comment.pk), reverse=newest_first)
    has_next = len(ordered) > PAGE_SIZE
    draft = request.session.pop(DRAFT_SESSION_KEY, None) if hasattr(request, "session") else None
    if draft and draft.get("article") != article.pk:
        draft = None
    return {
        "comments_visible": True,
        "threads": ordered[:PAGE_SIZE],
        "comments_page": page,
        "comments_has_next": has_next,
        "comments_newest_first": newest_first,
        "comment_draft": draft,
        "comment_max_length": MAX_LENGTH,
    }
