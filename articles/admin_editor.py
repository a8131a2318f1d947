"""The editor's tools behind the article form: live preview, picture upload,
and comparing two saved revisions.

Staff-only admin views (wired in ArticleAdmin.get_urls). The preview runs the
same Markdown rendering, sanitizer and paywall split as saving does
(articles/rendering.py), and shows the paywall box a reader over the limit
gets, so what the editor sees is what readers will see.
"""

from __future__ import annotations

import difflib
import html
import re
from types import SimpleNamespace

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST
from reversion.models import Version

from subscriptions.access import Reason
from subscriptions.models import default_plan

from . import checklist, desk_emails, rendering
from .models import Article, Category, InlineImage


def draft_from_post(data) -> checklist.Draft:
    return checklist.Draft(
        title=data.get("title", ""),
        standfirst=data.get("standfirst", ""),
        body=data.get("body", ""),
        has_hero=data.get("has_hero") == "1",
        hero_alt=data.get("hero_alt", ""),
        has_section=bool(data.get("category")),
        n_authors=len([a for a in data.getlist("authors") if a]),
    )


@require_POST
def preview(request: HttpRequest) -> JsonResponse:
    """The body as readers will see it: in full (subscribers) and cut at the
    paywall with the box a reader over the limit, or without a subscription, gets."""
    if not request.user.has_perm("articles.add_article") and not request.user.has_perm("articles.change_article"):
        raise PermissionDenied
    body = request.POST.get("body", "")
    access = request.POST.get("access", Article.Access.METERED)
    rendered = rendering.render_body(body, images=InlineImage.objects.in_bulk)
    teaser, full = rendering.split_body(rendered, settings.TEASER_PARAGRAPHS)
    has_break = rendering.PAYWALL_MARKER in rendered
    parts = rendering.blocks(full)
    n_teaser = len(rendering.blocks(teaser))
    reason = Reason.SUBSCRIBERS_ONLY if access == Article.Access.SUBSCRIBERS else Reason.METER_EXHAUSTED
    items = checklist.check(draft_from_post(request.POST))
    words = rendering.word_count(body)
    context = {
        # The subscriber's view with a line where the break falls (both halves sanitized above).
        "full_before": mark_safe("\n".join(parts[:n_teaser])),
        "full_after": mark_safe("\n".join(parts[n_teaser:])),
        "teaser_html": mark_safe(teaser),
        "is_free": access == Article.Access.FREE,
        "subscribers_only": access == Article.Access.SUBSCRIBERS,
        "has_break": has_break,
        "teaser_blocks": n_teaser,
        "full_blocks": len(parts),
        # What includes/paywall.html needs to draw the real box for an anonymous reader.
        "decision": SimpleNamespace(reason=reason.value),
        "plan": default_plan(),
        "free_per_day": settings.FREE_ARTICLES_PER_DAY,
        "user": AnonymousUser(),
        "request": SimpleNamespace(path="/"),
    }
    return JsonResponse(
        {
            "preview": render_to_string("admin/articles/article/_preview.html", context),
            "checklist": render_to_string("admin/articles/article/_checklist.html", {"items": items}),
            "words": words,
            "minutes": rendering.reading_minutes(words),
        }
    )


AUTOSAVED = ("title", "standfirst", "body")


@require_POST
def autosave(request: HttpRequest, model_admin, object_id: str) -> JsonResponse:
    """Keep a draft being written: its headline, summary and story, every few seconds
    while the writer types (static/js/article-editor.js). Drafts only — a live story
    changes when someone presses Save — and no revision: the history keeps real saves."""
    if not (object_id.isascii() and object_id.isdigit() and len(object_id) < 19):
        raise Http404("No such article.")
    article = get_object_or_404(Article, pk=int(object_id))
    if not model_admin.has_change_permission(request, article):
        raise PermissionDenied
    if article.status != Article.Status.DRAFT:
        return JsonResponse({"saved": False, "reason": "Only drafts are saved automatically."}, status=409)
    changed = [f for f in AUTOSAVED if f in request.POST and request.POST[f] != getattr(article, f)]
    field_max = {f: Article._meta.get_field(f).max_length for f in AUTOSAVED}
    if "title" in changed and not request.POST["title"].strip():
        return JsonResponse({"saved": False, "reason": "A draft needs its headline to be saved."}, status=400)
    if any(field_max[f] and len(request.POST[f]) > field_max[f] for f in changed):
        return JsonResponse({"saved": False, "reason": "Too long to save; fix it and press Save."}, status=400)
    if changed:
        for f in changed:
            setattr(article, f, request.POST[f])
        article.save()  # renders the body as every save does; a draft retires no reader's page
    return JsonResponse({"saved": True, "at": timezone.localtime().strftime("%H:%M:%S")})


class InlineImageForm(forms.ModelForm):
    class Meta:
        model = InlineImage
        fields = ("image", "alt", "caption", "credit")

    def clean_alt(self) -> str:
        alt = self.cleaned_data["alt"].strip()
        if not alt:
            raise forms.ValidationError("Describe the picture: alt text is required.")
        return alt


@require_POST
def upload_image(request: HttpRequest) -> JsonResponse:
    """A picture for the body, with its alt text, caption and credit; answers the line to insert."""
    if not request.user.has_perm("articles.add_inlineimage"):
        raise PermissionDenied
    form = InlineImageForm(request.POST, request.FILES)
    if not form.is_valid():
        return JsonResponse({"errors": {k: [str(e) for e in v] for k, v in form.errors.items()}}, status=400)
    image = form.save(commit=False)
    image.uploaded_by = request.user
    image.save()
    return JsonResponse({"id": image.pk, "markdown": image.markdown, "alt": image.alt}, status=201)


# What the comparison shows, in the form's order and words.
COMPARED = (
    ("title", "Headline"), ("standfirst", "Summary"), ("body", "Story"), ("category", "Section"),
    ("authors", "Byline"), ("tags", "Topics"), ("hero_image", "Main picture"), ("hero_alt", "Alt text"),
    ("hero_caption", "Caption"), ("hero_credit", "Photo credit"), ("update_note", "Update note"),
    ("correction", "Correction"), ("status", "Status"), ("publish_at", "Publish time"), ("access", "Who can read it"),
)  # fmt: skip
_TOKEN = re.compile(r"\s+|[^\s]+")


def _display(field: str, value) -> str:
    if value is None:
        return ""
    if field == "category":
        return str(Category.objects.filter(pk=value).first() or value)
    if field in ("authors", "tags"):
        model = Article._meta.get_field(field).related_model
        return ", ".join(str(o) for o in model.objects.filter(pk__in=value))
    if field == "status":
        return str(Article.Status(value).label) if value in Article.Status.values else str(value)
    if field == "access":
        return str(Article.Access(value).label) if value in Article.Access.values else str(value)
    return str(value)


def word_diff(old: str, new: str) -> str:
    """Old and new text as HTML with <del>/<ins> around changed words (both escaped)."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            out.append(f"<del>{html.escape(''.join(a[i1:i2]))}</del>")
        if op in ("insert", "replace"):
            out.append(f"<ins>{html.escape(''.join(b[j1:j2]))}</ins>")
        if op == "equal":
            out.append(html.escape("".join(a[i1:i2])))
    return "".join(out)


@require_GET
def compare(request: HttpRequest, model_admin, object_id: str) -> HttpResponse:
    """Two saved revisions of one article side by side, changed words marked."""
    ids = [object_id, request.GET.get("from", ""), request.GET.get("to", "")]
    if not all(i.isascii() and i.isdigit() and len(i) < 19 for i in ids):  # ids, not text; within bigint
        raise Http404("No such revision.")
    article = get_object_or_404(Article, pk=int(ids[0]))
    if not model_admin.has_view_or_change_permission(request, article):
        raise PermissionDenied
    versions = Version.objects.get_for_object(article).select_related("revision__user")
    older = get_object_or_404(versions, pk=int(ids[1]))
    newer = get_object_or_404(versions, pk=int(ids[2]))
    if older.revision.date_created > newer.revision.date_created:
        older, newer = newer, older
    rows = []
    for field, label in COMPARED:
        key = Article._meta.get_field(field).attname
        a, b = _display(field, older.field_dict.get(key)), _display(field, newer.field_dict.get(key))
        rows.append({"label": label, "changed": a != b, "diff": mark_safe(word_diff(a, b)), "text": b})
    can_restore = model_admin.has_change_permission(request, article)

    def restore_url(version: Version) -> str:
        return reverse("admin:articles_article_revision", args=[article.pk, version.pk])

    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Article._meta,
        "original": article,
        "title": f"Compare revisions of “{article}”",
        "older": older,
        "newer": newer,
        "rows": rows,
        "changed": [r for r in rows if r["changed"]],
        "older_restore_url": restore_url(older) if can_restore else "",
        "newer_restore_url": restore_url(newer) if can_restore else "",
    }
    return TemplateResponse(request, "admin/articles/article/compare.html", context)


@require_POST
def review_emails(request: HttpRequest) -> HttpResponse:
    """An editor turns the "story submitted for review" emails on or off (from the desk)."""
    if not request.user.has_perm(desk_emails.PUBLISH_PERMISSION):
        raise PermissionDenied
    on = request.POST.get("review_submitted") == "on"  # the desk's button says "on"; anything else is off
    desk_emails.review_emails_set(user=request.user, on=on)
    if on:
        messages.success(request, f"We'll email you at {request.user.email} when a story is submitted for review.")
    else:
        messages.success(request, "You won't be emailed about stories submitted for review.")
    return redirect("admin:articles_article_changelist")
