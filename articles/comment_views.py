"""Comment actions. Each view is thin: it checks who may act, calls the
service in articles/comments.py, and sends the reader back to the article."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from subscriptions import access

from . import comments
from .models import Article


def _article_or_404(slug: str) -> Article:
    return get_object_or_404(Article.objects.published(), slug=slug)


def _forbidden_unless_commenter(request: HttpRequest) -> HttpResponse | None:
    if not access.can_comment(request):
        return HttpResponseForbidden("Comments are for subscribers with a verified email address.")
    return None


@login_required
@require_POST
def comment_post(request: HttpRequest, slug: str) -> HttpResponse:
    article = _article_or_404(slug)
    if denied := _forbidden_unless_commenter(request):
        return denied
    body = request.POST.get("body", "")
    parent_id = request.POST.get("parent") or None
    try:
        comment = comments.comment_create(
            user=request.user,
            article=article,
            body=body,
            parent_id=int(parent_id) if parent_id and parent_id.isdigit() else None,
            token=request.POST.get("token", ""),
        )
    except comments.CommentError as error:
        messages.error(request, str(error))
        # Keep what they typed: the form is filled in again on the article page.
        request.session[comments.DRAFT_SESSION_KEY] = {"article": article.pk, "body": body[:10000], "parent": parent_id}
        return redirect(f"{article.get_absolute_url()}#comment-form")
    messages.success(request, "Your comment is posted.")
    return redirect(f"{article.get_absolute_url()}#comment-{comment.pk}")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def comment_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    if denied := _forbidden_unless_commenter(request):
        return denied
    comment = comments._own(request.user, pk)
    error = None
    if request.method == "POST":
        try:
            comments.comment_edit(user=request.user, comment_id=pk, body=request.POST.get("body", ""))
        except comments.CommentError as exc:
            error = str(exc)
            comment.body = request.POST.get("body", "")
        else:
            messages.success(request, "Your comment is updated.")
            return redirect(f"{comment.article.get_absolute_url()}#comment-{pk}")
    return render(
        request,
        "articles/comment_edit.html",
        {"comment": comment, "error": error, "editable": comments.can_edit(comment),
         "max_length": comments.MAX_LENGTH},
        status=400 if error else 200,
    )


@login_required
@require_POST
def comment_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    if denied := _forbidden_unless_commenter(request):
        return denied
    article = comments.comment_delete(user=request.user, comment_id=pk)
    messages.success(request, "Your comment is deleted.")
    return redirect(f"{article.get_absolute_url()}#comments")


@login_required
@require_POST
def comment_report(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    if denied := _forbidden_unless_commenter(request):
        return denied
    article = _article_or_404(slug)
    comments.comment_report(user=request.user, comment_id=pk, reason=request.POST.get("reason", ""))
    messages.success(request, "Thanks — an editor will look at this comment.")
    return redirect(f"{article.get_absolute_url()}#comment-{pk}")
