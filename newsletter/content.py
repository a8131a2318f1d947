"""What one email says to one reader.

Which text a reader gets is asked of `subscriptions.access` — the paywall's own
rule, without the meter (an email is not a page view and spends no credit):
free articles and entitled readers get the full text, everyone else the public
teaser. The paid part never enters a free reader's template context: each
story is handed to the template as a `Story` holding only the HTML it may show.

A send has as many distinct bodies as distinct answers (usually two): each is
rendered and CSS-inlined once, and only the unsubscribe link differs per reader.

A welcome email is staff's Markdown, rendered and cleaned by the stories' own
sanitizer (no script, no event handler, no `javascript:` link gets through), the
same for every reader; it belongs to no list, so it has no unsubscribe link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import css_inline
import markdown
from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from articles import rendering
from articles.models import Article
from subscriptions import access

from .models import Send, WelcomeEmail

UNSUBSCRIBE_PLACEHOLDER = "https://unsubscribe.invalid/PLACEHOLDER"
_SALT = "newsletter.unsubscribe"
_SIGNUP_SALT = "newsletter.unsubscribe-email-signup"  # an email-only reader: a sign-up id, not a user id
_CSS = Path(__file__).with_name("email.css")


@dataclass(frozen=True)
class Story:
    title: str
    url: str
    category: str
    standfirst: str
    html: str  # the full body or the teaser, whichever this reader may read
    text: str
    full: bool
    paywalled: bool  # there is more behind the paywall for this reader
    image_url: str
    image_alt: str
    image_caption: str


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str  # with UNSUBSCRIBE_PLACEHOLDER where the reader's link goes
    text: str
    full_text: bool  # the lead story in full


def absolute(path: str) -> str:
    return path if urlsplit(path).scheme else settings.SITE_URL + path


def html_to_text(html: str) -> str:
    return "\n\n".join(rendering.plain_text(block) for block in rendering.blocks(html))


def _image(article: Article) -> str:
    sizes = (article.hero_renditions or {}).get("sizes") or {}
    if sizes:  # the 960 rendition (or the largest below it): sharp on phones, light to download
        width = max((int(w) for w in sizes if int(w) <= 960), default=min(int(w) for w in sizes))
        return absolute(default_storage.url(sizes[str(width)]))
    return absolute(article.hero_image.url) if article.hero_image else ""


def story(article: Article, *, full: bool) -> Story:
    html = article.body_html if full else article.teaser_html
    return Story(
        title=article.title,
        url=absolute(article.get_absolute_url()),
        category=article.category.name,
        standfirst=article.standfirst,
        html=html,
        text=html_to_text(html),
        full=full,
        paywalled=not full,
        image_url=_image(article),
        image_alt=article.hero_alt or article.title,
        image_caption=article.hero_caption,
    )


def send_articles(send: Send) -> list[Article]:
    """The send's stories in the order chosen when it was made (gone ones dropped)."""
    found = Article.objects.select_related("category").in_bulk(send.article_ids)
    return [found[pk] for pk in send.article_ids if pk in found]


def decisions(ent: access.Entitlement, articles: list[Article]) -> tuple[bool, ...]:
    """Full text or teaser for each story, as the paywall decides for this reader."""
    return tuple(access.may_read_in_full(ent, a) for a in articles)


@cache
def _inliner() -> css_inline.CSSInliner:
    return css_inline.CSSInliner(extra_css=_CSS.read_text(), keep_style_tags=False, load_remote_stylesheets=False)


def render(
    kind: str, subject: str, articles: list[Article], full: tuple[bool, ...], *, email_only: bool = False
) -> Rendered:
    """The email for one answer of the paywall (`full`, one flag per story). An `email_only`
    reader (no account) is not sent to the account's email choices, which need a log-in."""
    # The lead story in the text the paywall allows; the others as headline, summary and link.
    stories = [story(a, full=f and i == 0) for i, (a, f) in enumerate(zip(articles, full, strict=True))]
    context = {
        "kind": kind,
        "subject": subject,
        "lead": stories[0] if stories else None,
        "others": stories[1:],
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
        "subscribe_url": absolute(reverse("subscriptions:pricing")),
        "preferences_url": None if email_only else absolute(reverse("newsletter:preferences")),
        "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER,
        "today": timezone.localdate(),
    }
    html = render_to_string(f"newsletter/email/{kind}.html", context)
    text = render_to_string(f"newsletter/email/{kind}.txt", context)
    return Rendered(subject=subject, html=_inliner().inline(html), text=_tidy(text), full_text=bool(full and full[0]))


_LINK = re.compile(r'<a href="([^"]*)"[^>]*>(.*?)</a>', re.DOTALL)


def welcome_body_html(source: str) -> str:
    """Staff's Markdown as clean HTML (the allow-list stories use)."""
    return rendering.sanitize_html(markdown.markdown(source or "", extensions=["extra", "sane_lists"]))


def render_welcome(welcome: WelcomeEmail) -> Rendered:
    """The welcome email as every reader of its audience gets it (and as the admin previews it)."""
    html_body = welcome_body_html(welcome.body)
    # The plain part keeps each link's address, which html_to_text would drop.
    text_body = html_to_text(_LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", html_body))
    context = {
        "kind": Send.Kind.WELCOME,
        "audience": welcome.audience,
        "subject": welcome.subject,
        "body_html": html_body,
        "body_text": text_body,
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
        "preferences_url": absolute(reverse("newsletter:preferences")),
        "account_url": absolute(reverse("subscriptions:account")),
        "today": timezone.localdate(),
    }
    html = render_to_string("newsletter/email/welcome.html", context)
    text = render_to_string("newsletter/email/welcome.txt", context)
    return Rendered(subject=welcome.subject, html=_inliner().inline(html), text=_tidy(text), full_text=False)


def _tidy(text: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def unsubscribe_token(*, user_id: int, kind: str, send_id: int | None) -> str:
    return signing.Signer(salt=_SALT).sign_object([user_id, kind, send_id])


def read_unsubscribe_token(token: str) -> tuple[int, str, int | None]:
    """(user id, list, send id); raises signing.BadSignature for a forged or damaged token."""
    user_id, kind, send_id = signing.Signer(salt=_SALT).unsign_object(token)
    if kind not in Send.LISTS:
        raise signing.BadSignature("unknown list")
    return int(user_id), kind, send_id


def signup_unsubscribe_token(*, signup_id: int, send_id: int | None) -> str:
    return signing.Signer(salt=_SIGNUP_SALT).sign_object([signup_id, send_id])


def read_signup_unsubscribe_token(token: str) -> tuple[int, int | None]:
    """(email sign-up id, send id); raises signing.BadSignature for a forged or damaged token."""
    signup_id, send_id = signing.Signer(salt=_SIGNUP_SALT).unsign_object(token)
    return int(signup_id), send_id


def _domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def message(
    rendered: Rendered,
    *,
    to: str,
    kind: str,
    user_id: int | None,
    send_id: int | None,
    message_id: str,
    connection=None,
    signup_id: int | None = None,
) -> EmailMultiAlternatives:
    """One reader's copy: their own unsubscribe link, in the body and in the RFC 8058 headers.

    The Message-ID is fixed per delivery, so if a crash ever lands between the
    server's "250 OK" and our commit, a resent copy carries the same id (mail
    systems that de-duplicate by Message-ID show it once).

    A welcome email is on no list: no List-* headers, nothing to unsubscribe from."""
    domain = _domain()
    if kind == Send.Kind.WELCOME:
        msg = EmailMultiAlternatives(
            rendered.subject,
            rendered.text,
            settings.NEWSLETTER_FROM_EMAIL,
            [to],
            headers={"Message-ID": f"<{message_id}@{domain}>", "Auto-Submitted": "auto-generated"},
            connection=connection,
        )
        msg.attach_alternative(rendered.html, "text/html")
        return msg
    if signup_id is not None:
        token = signup_unsubscribe_token(signup_id=signup_id, send_id=send_id)
    else:
        token = unsubscribe_token(user_id=user_id, kind=kind, send_id=send_id)
    url = absolute(reverse("newsletter:unsubscribe", args=[token]))
    label = Send.Kind(kind).label
    msg = EmailMultiAlternatives(
        rendered.subject,
        rendered.text.replace(UNSUBSCRIBE_PLACEHOLDER, url),
        settings.NEWSLETTER_FROM_EMAIL,
        [to],
        headers={
            "Message-ID": f"<{message_id}@{domain}>",
            "List-Id": f"{settings.SITE_NAME} {label} <{kind}.{domain}>",
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
        connection=connection,
    )
    msg.attach_alternative(rendered.html.replace(UNSUBSCRIBE_PLACEHOLDER, url), "text/html")
    return msg
