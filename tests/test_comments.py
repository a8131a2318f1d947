"""Comments are for logged-in subscribers with a verified email; everyone else
learns that the story has a conversation and what would let them in — never
its text, its authors or how many comments there are (articles/comments.py says why)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Article, Comment, CommentReport
from subscriptions.models import Subscription

from .conftest import make_article, make_subscription, make_user

pytestmark = pytest.mark.django_db
SECRET_COMMENT = "Only subscribers should ever read this remark."
GATE = "Comments are for subscribers."
TALKING = "Subscribers are talking about this story."


@pytest.fixture
def commented(article, subscriber) -> Article:
    Comment.objects.create(article=article, user=subscriber, body=SECRET_COMMENT)
    return article


def client_for(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def post(client: Client, article: Article, body: str, **extra) -> object:
    return client.post(f"/{article.slug}/comments/", {"body": body, **extra})


@pytest.mark.parametrize("persona", [None, "free_reader", "lapsed", "unverified_subscriber"])
def test_readers_who_may_not_comment_learn_there_is_a_conversation_and_nothing_of_it(
    persona, commented, subscriber, request
) -> None:
    user = None
    if persona == "unverified_subscriber":
        user = make_user(verified=False)
        make_subscription(user)
    elif persona:
        user = request.getfixturevalue(persona)
    page = client_for(user).get(commented.get_absolute_url()).content.decode()
    section = page[page.index('id="comments"') :]
    assert TALKING in section
    assert "Comments (" not in page  # no count
    # No sample either: not the text, not who wrote it, not the comment's anchor.
    assert SECRET_COMMENT not in page
    assert subscriber.username not in section
    assert f'id="comment-{Comment.objects.get().pk}"' not in page
    assert 'class="comment-list"' not in page
    assert f'action="/{commented.slug}/comments/"' not in page
    if persona == "unverified_subscriber":
        assert "Confirm your email address to read the comments" in section and GATE not in section
    else:
        assert GATE in section


def test_a_story_without_comments_says_so_to_everyone(article, client) -> None:
    section = client.get(article.get_absolute_url()).content.decode().split('id="comments"', 1)[1]
    assert "No comments yet." in section and TALKING not in section and "Comments (" not in section


def test_hidden_comments_do_not_count_as_a_conversation(commented, client) -> None:
    Comment.objects.update(is_hidden=True)
    section = client.get(commented.get_absolute_url()).content.decode().split('id="comments"', 1)[1]
    assert TALKING not in section and "No comments yet." in section


def test_non_subscribers_page_runs_no_comment_query(commented, free_reader, settings) -> None:
    settings.PAGE_CACHE_SECONDS = 0  # the render itself, not a kept page
    for client in (Client(), client_for(free_reader)):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(commented.get_absolute_url()).status_code == 200
        assert not [q["sql"] for q in ctx.captured_queries if '"articles_comment"."body"' in q["sql"]]


def test_every_anonymous_reader_gets_the_same_comment_section_and_a_shareable_page(settings, category, author) -> None:
    settings.SHARED_CACHE_SECONDS = 60
    story = make_article(category=category, authors=[author], access=Article.Access.FREE)
    Comment.objects.create(article=story, user=make_user(), body=SECRET_COMMENT)
    pages = []
    for query in ("", "?comments=newest&cpage=2", "?utm_source=x"):
        response = Client().get(story.get_absolute_url() + query)
        assert "public" in response["Cache-Control"] and "s-maxage=60" in response["Cache-Control"]
        pages.append(response.content)
    assert pages[0] == pages[1] == pages[2]
    assert TALKING.encode() in pages[0] and SECRET_COMMENT.encode() not in pages[0]


@pytest.mark.parametrize("payments", ["open", "closed"])
def test_the_invitation_sells_a_subscription_only_when_payments_are_open(payments, commented, free_reader, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_open" if payments == "open" else ""
    for client in (Client(), client_for(free_reader)):
        section = client.get(commented.get_absolute_url()).content.decode().split('id="comments"', 1)[1]
        section = section.split("</section>", 1)[0]
        assert ('href="/subscribe/"' in section) is (payments == "open")
    anonymous = Client().get(commented.get_absolute_url()).content.decode()
    assert "/accounts/login/?next=" in anonymous.split('id="comments"', 1)[1]


@pytest.mark.parametrize("persona", ["subscriber", "trialing", "complimentary", "editor"])
def test_subscribers_and_staff_see_comments_and_the_form(persona, commented, request) -> None:
    page = client_for(request.getfixturevalue(persona)).get(commented.get_absolute_url()).content.decode()
    assert SECRET_COMMENT in page
    assert GATE not in page
    assert 'id="comment-form"' in page


@pytest.mark.parametrize("persona", ["free_reader", "lapsed"])
def test_non_subscribers_cannot_post(persona, article, request) -> None:
    response = post(client_for(request.getfixturevalue(persona)), article, "Let me in")
    assert response.status_code == 403
    assert not Comment.objects.exists()


def test_unverified_subscribers_cannot_post(article) -> None:
    user = make_user(verified=False)
    make_subscription(user)
    assert post(client_for(user), article, "Hello").status_code == 403
    assert not Comment.objects.exists()


def test_anonymous_readers_are_sent_to_log_in(article, client) -> None:
    response = post(client, article, "Hello")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Comment.objects.exists()


def test_a_subscriber_posts_replies_edits_and_deletes(article, subscriber) -> None:
    client = client_for(subscriber)
    response = post(client, article, "First thoughts.", token="t1")
    comment = Comment.objects.get()
    assert response["Location"].endswith(f"#comment-{comment.pk}")
    post(client, article, "Replying to myself.", parent=str(comment.pk), token="t2")
    reply = Comment.objects.get(parent=comment)
    # A reply to a reply stays one level deep.
    post(client, article, "Deeper.", parent=str(reply.pk), token="t3")
    assert Comment.objects.filter(parent=comment).count() == 2
    client.post(f"/{article.slug}/comments/{comment.pk}/edit/", {"body": "Second thoughts."})
    comment.refresh_from_db()
    assert comment.body == "Second thoughts." and comment.edited_at is not None
    page = client.get(article.get_absolute_url()).content.decode()
    assert "Second thoughts." in page and "Replying to myself." in page and "edited" in page
    client.post(f"/{article.slug}/comments/{reply.pk}/delete/")
    assert not Comment.objects.filter(pk=reply.pk).exists()


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert('x')</script>",
        '<img src=x onerror="alert(1)">',
        '<a href="javascript:alert(1)">click</a> javascript:alert(1)',
        "<svg onload=alert(1)>",
    ],
)
def test_script_payloads_come_out_inert(payload, article, subscriber) -> None:
    client = client_for(subscriber)
    post(client, article, payload)
    page = client.get(article.get_absolute_url()).content.decode()
    comments_html = page.split('id="comments"', 1)[1]
    dangerous_bits = ("<script>alert", "<img src=x", "<svg", 'href="javascript:', 'onerror="alert')
    for dangerous in dangerous_bits:
        assert dangerous not in comments_html
    assert "&lt;" in comments_html


def test_links_are_clickable_but_nofollow_ugc(article, subscriber) -> None:
    client = client_for(subscriber)
    post(client, article, "Source: https://example.org/report")
    page = client.get(article.get_absolute_url()).content.decode()
    assert '<a href="https://example.org/report" rel="nofollow ugc">' in page


def test_nobody_can_edit_or_delete_someone_elses_comment(commented, trialing) -> None:
    comment = Comment.objects.get()
    client = client_for(trialing)
    assert client.get(f"/{commented.slug}/comments/{comment.pk}/edit/").status_code == 404
    assert client.post(f"/{commented.slug}/comments/{comment.pk}/edit/", {"body": "hijack"}).status_code == 404
    assert client.post(f"/{commented.slug}/comments/{comment.pk}/delete/").status_code == 404
    comment.refresh_from_db()
    assert comment.body == SECRET_COMMENT


def test_editing_closes_after_fifteen_minutes(commented, subscriber) -> None:
    comment = Comment.objects.get()
    Comment.objects.filter(pk=comment.pk).update(created_at=timezone.now() - timedelta(minutes=16))
    response = client_for(subscriber).post(f"/{commented.slug}/comments/{comment.pk}/edit/", {"body": "late"})
    assert response.status_code == 400
    assert "first 15 minutes" in response.content.decode()
    comment.refresh_from_db()
    assert comment.body == SECRET_COMMENT


@pytest.mark.parametrize(("body", "message"), [("   ", "empty"), ("x" * 3001, "at most 3000 characters")])
def test_bad_comments_get_a_clear_error_and_keep_the_text(body, message, article, subscriber) -> None:
    client = client_for(subscriber)
    response = post(client, article, body)
    assert response.status_code == 302
    page = client.get(article.get_absolute_url()).content.decode()
    assert message in page
    if body.strip():
        assert body in page  # what they typed is back in the form
    assert not Comment.objects.exists()


def test_a_double_submit_creates_one_comment(article, subscriber) -> None:
    client = client_for(subscriber)
    post(client, article, "Once.", token="same-token")
    post(client, article, "Once.", token="same-token")
    assert Comment.objects.count() == 1


def test_posting_too_fast_trips_the_rate_limit(article, subscriber, settings) -> None:
    settings.COMMENTS_PER_MINUTE = 3
    client = client_for(subscriber)
    for i in range(5):
        post(client, article, f"Comment {i}", token=f"t{i}")
    assert Comment.objects.count() == 3
    assert "posting very quickly" in client.get(article.get_absolute_url()).content.decode()


def test_closed_comments_refuse_posts(article, subscriber) -> None:
    Article.objects.filter(pk=article.pk).update(comments_open=False)
    client = client_for(subscriber)
    post(client, article, "Anyone?")
    assert not Comment.objects.exists()
    assert "Comments are closed" in client.get(article.get_absolute_url()).content.decode()


def test_hidden_comments_disappear_for_readers(commented, trialing) -> None:
    Comment.objects.update(is_hidden=True)
    page = client_for(trialing).get(commented.get_absolute_url()).content.decode()
    assert SECRET_COMMENT not in page
    assert "Comments (0)" in page  # subscribers see the count


def test_a_lapsed_subscription_loses_comments_at_once(commented, subscriber) -> None:
    client = client_for(subscriber)
    assert SECRET_COMMENT in client.get(commented.get_absolute_url()).content.decode()
    subscription = Subscription.objects.get(user=subscriber)
    subscription.status = Subscription.Status.CANCELED  # as the webhook records it
    subscription.save()
    page = client.get(commented.get_absolute_url()).content.decode()
    assert SECRET_COMMENT not in page and GATE in page
    assert post(client, commented, "Still here?").status_code == 403


def test_reporting_a_comment_reaches_the_editors(commented, trialing) -> None:
    comment = Comment.objects.get()
    client_for(trialing).post(f"/{commented.slug}/comments/{comment.pk}/report/", {"reason": "rude"})
    client_for(trialing).post(f"/{commented.slug}/comments/{comment.pk}/report/", {"reason": "rude"})
    assert CommentReport.objects.get().reason == "rude"


def test_editors_moderate_in_the_admin(commented, editor) -> None:
    comment = Comment.objects.get()
    client = client_for(editor)
    assert client.get("/admin/articles/comment/").status_code == 200
    client.post("/admin/articles/comment/", {"action": "hide", "_selected_action": [comment.pk]})
    comment.refresh_from_db()
    assert comment.is_hidden


def test_newest_first_ordering(article, subscriber) -> None:
    older = Comment.objects.create(article=article, user=subscriber, body="The older remark.")
    Comment.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(hours=1))
    Comment.objects.create(article=article, user=subscriber, body="The newer remark.")
    client = client_for(subscriber)
    oldest = client.get(article.get_absolute_url()).content.decode()
    newest = client.get(article.get_absolute_url() + "?comments=newest").content.decode()
    assert oldest.index("The older remark.") < oldest.index("The newer remark.")
    assert newest.index("The newer remark.") < newest.index("The older remark.")


@pytest.mark.parametrize("how_many", [3, 300])
def test_the_comment_list_costs_the_same_queries_whatever_its_length(how_many, article, subscriber, settings) -> None:
    settings.PAGE_CACHE_SECONDS = 0  # measure the render, not the shared page (tests/test_page_cache.py)
    others = [make_user() for _ in range(3)]
    top = Comment.objects.bulk_create(
        [Comment(article=article, user=others[i % 3], body=f"Comment {i}") for i in range(how_many)]
    )
    Comment.objects.bulk_create(
        [
            Comment(article=article, user=others[i % 3], body=f"Reply {i}", parent=top[i % len(top)])
            for i in range(how_many)
        ]
    )
    client = client_for(subscriber)
    client.get(article.get_absolute_url())
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    counted = len([q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]])
    # the article row (with its byline), comments, "More from": the session and the account (user
    # and entitlement) come from the cache
    assert counted == 3, [q["sql"][:90] for q in ctx.captured_queries]
