"""Moving a newsroom in: `manage.py import_archive` from WordPress, Ghost and Substack.

Each test writes its own export into tmp_path. Every story gets its page with
the access it had, its old address answers 301 to it, imported HTML goes
through the site's sanitizer, a second run changes nothing, an interrupted run
finishes on the next, and bad input is a line in the report, never a traceback.
"""

from __future__ import annotations

import json
import zipfile
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.redirects.models import Redirect
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from PIL import Image

from articles import rendering
from articles.imports import body as bodies
from articles.imports import importer
from articles.models import Article, Author, Category, Tag

from .conftest import make_article

pytestmark = pytest.mark.django_db

PAID = "Only paying readers learn the harbor master's name."
EVIL = (
    '<p>Before.</p><script>alert("x")</script><img src="x.png" onerror="alert(1)">'
    '<p><a href="javascript:alert(2)">click</a> <span onmouseover="alert(3)">hover</span></p>'
    '<svg onload="alert(4)"></svg><iframe src="javascript:alert(5)"></iframe>'
    '<p style="x" onclick="alert(6)">After.</p>'
)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media-root"


def run(source: str, path, *args: str) -> str:
    out = StringIO()
    call_command("import_archive", "--from", source, str(path), *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def png(path, size=(800, 400)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (20, 80, 120)).save(path, format="PNG")


def snapshot() -> dict:
    return {
        "articles": sorted(Article.objects.values_list("slug", "updated_at")),
        "redirects": sorted(Redirect.objects.values_list("old_path", "new_path")),
        "sections": Category.objects.count(),
        "topics": Tag.objects.count(),
        "authors": Author.objects.count(),
    }


# --- WordPress (WXR)

WP_POST = """
<item>
  <title>{title}</title>
  <link>https://old.example/{link}</link>
  <dc:creator><![CDATA[{creator}]]></dc:creator>
  <content:encoded><![CDATA[{content}]]></content:encoded>
  <excerpt:encoded><![CDATA[{excerpt}]]></excerpt:encoded>
  <wp:post_id>{id}</wp:post_id>
  <wp:post_date>{date}</wp:post_date>
  <wp:post_date_gmt>{date}</wp:post_date_gmt>
  <wp:post_name>{slug}</wp:post_name>
  <wp:status>{status}</wp:status>
  <wp:post_type>post</wp:post_type>
  <wp:post_password></wp:post_password>
  {extra}
</item>"""


def wp_post(id: int, title: str, slug: str, content: str, **kw) -> str:
    date = kw.pop("date", "2023-05-12 10:00:00")
    values = {
        "id": id, "title": title, "slug": slug, "content": content, "creator": "mkent", "excerpt": "",
        "date": date, "status": "publish", "link": f"{date[:10].replace('-', '/')}/{slug}/", "extra": "",
    }  # fmt: skip
    values.update(kw)
    return WP_POST.format(**values)


def wxr(*items: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
  <title>The Old Gazette</title>
  <wp:wxr_version>1.2</wp:wxr_version>
  <wp:author><wp:author_id>2</wp:author_id><wp:author_login><![CDATA[mkent]]></wp:author_login>
    <wp:author_email><![CDATA[mira@old.example]]></wp:author_email>
    <wp:author_display_name><![CDATA[Mira Kent]]></wp:author_display_name></wp:author>
  {"".join(items)}
</channel>
</rss>"""


def wordpress_export(tmp_path, *extra: str) -> tuple:
    png(tmp_path / "uploads" / "2023" / "05" / "crane.png")
    teaser = "<p>The port opened its books on Tuesday.</p><p>Auditors found gaps.</p>"
    items = [
        wp_post(
            11, "Port audit finds gaps", "port-audit",
            f"{teaser}\n<!-- paywall -->\n<p>{PAID}</p><p>More paid text.</p>",
            extra='<category domain="category" nicename="harbor"><![CDATA[Harbor]]></category>'
            '<category domain="post_tag" nicename="audits"><![CDATA[Audits]]></category>'
            "<wp:postmeta><wp:meta_key>_thumbnail_id</wp:meta_key><wp:meta_value>90</wp:meta_value></wp:postmeta>",
        ),
        wp_post(
            12, "Ferry schedule changes", "ferry-schedule",
            "Loose first paragraph\nwith a line break.\n\n<!--more-->\n\nA second *starred* paragraph.",
            extra='<category domain="category" nicename="transit"><![CDATA[Transit]]></category>'
            '<category domain="post_tag" nicename="audits"><![CDATA[Audits]]></category>',
        ),
        wp_post(13, "A draft about tides", "tides-draft", "<p>Unfinished.</p>", status="draft",
                date="0000-00-00 00:00:00", link="?p=13"),
        wp_post(14, "Coming soon: the bridge", "bridge-soon", "<p>Scheduled.</p>", status="future",
                date=(timezone.now() + timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S")),
        """<item><title>crane</title><wp:post_id>90</wp:post_id><wp:post_type>attachment</wp:post_type>
           <wp:attachment_url>https://old.example/wp-content/uploads/2023/05/crane.png</wp:attachment_url>
           <excerpt:encoded><![CDATA[A crane at <em>dawn</em>.]]></excerpt:encoded>
           <wp:postmeta><wp:meta_key>_wp_attachment_image_alt</wp:meta_key>
           <wp:meta_value><![CDATA[A yellow crane over the container quay]]></wp:meta_value></wp:postmeta></item>""",
        *extra,
    ]  # fmt: skip
    path = tmp_path / "gazette.xml"
    path.write_text(wxr(*items))
    return path


def test_a_dry_run_writes_nothing_and_says_what_it_would_do(tmp_path):
    path = wordpress_export(tmp_path)
    before = snapshot()
    out = run("wordpress", path, "--dry-run")
    assert snapshot() == before
    assert sum(line.startswith("would be created") for line in out.splitlines()) == 4
    assert "port-audit" in out and "ferry-schedule" in out and "tides-draft" in out and "bridge-soon" in out
    assert "Dry run, nothing written. 4 stories read: 4 would be created, 0 would be updated" in out
    assert "3 old addresses would be redirected" in out
    assert not list((tmp_path / "media-root").rglob("*.*"))  # no picture copied either


def test_wordpress_stories_get_their_pages_access_and_old_addresses(tmp_path):
    path = wordpress_export(tmp_path)
    out = run("wordpress", path)
    assert "4 stories read: 4 created, 0 updated, 0 unchanged, 0 skipped, 0 failed" in out

    audit = Article.objects.get(import_source="wordpress", import_id="11")
    assert (audit.slug, audit.access, audit.status) == ("port-audit", Article.Access.SUBSCRIBERS, "published")
    assert audit.category.name == "Harbor" and [t.name for t in audit.tags.all()] == ["Audits"]
    assert [(a.name, a.slug) for a in audit.authors.all()] == [("Mira Kent", "mkent")]
    assert audit.standfirst == "The port opened its books on Tuesday."  # no excerpt: the first paragraph
    assert audit.hero_image and audit.hero_renditions.get("sizes")
    assert (audit.hero_alt, audit.hero_caption) == ("A yellow crane over the container quay", "A crane at dawn.")
    assert PAID not in audit.teaser_html and PAID in audit.body_html  # our paywall break, at theirs

    client = Client()
    page = client.get("/port-audit/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Port audit finds gaps" in html and "The port opened its books" in html
    assert 'class="paywall"' in html and PAID not in html

    ferry = Article.objects.get(slug="ferry-schedule")
    assert ferry.access == Article.Access.FREE  # <!--more--> is not a paywall
    assert ferry.search_vector and ferry.public_search_vector and ferry.word_count  # as Article.save() fills them
    html = client.get("/ferry-schedule/").content.decode()
    assert "<p>Loose first paragraph<br>with a line break.</p>" in html
    assert "A second *starred* paragraph." in html  # HTML, not Markdown: the asterisks stay

    assert Article.objects.get(slug="tides-draft").status == Article.Status.DRAFT
    assert client.get("/tides-draft/").status_code == 404
    assert Article.objects.get(slug="bridge-soon").status == Article.Status.SCHEDULED
    assert client.get("/bridge-soon/").status_code == 404  # not yet

    old = client.get("/2023/05/12/port-audit/")
    assert (old.status_code, old["Location"]) == (301, "/port-audit/")
    assert client.get("/2023/05/12/ferry-schedule/")["Location"] == "/ferry-schedule/"
    assert Redirect.objects.filter(new_path="/tides-draft/").count() == 0  # drafts had no public address
    assert client.get("/2023/05/12/no-such-story/").status_code == 404


def test_a_second_run_changes_nothing(tmp_path):
    path = wordpress_export(tmp_path)
    run("wordpress", path)
    before = snapshot()
    out = run("wordpress", path)
    assert "4 stories read: 0 created, 0 updated, 4 unchanged" in out
    assert "0 old addresses redirected" in out
    assert snapshot() == before


def test_a_changed_story_is_updated_and_a_moved_one_keeps_its_old_address(tmp_path):
    path = wordpress_export(tmp_path)
    run("wordpress", path)
    first_picture = Article.objects.get(slug="port-audit").hero_image.name
    path.write_text(path.read_text().replace("Ferry schedule changes", "Ferry timetable changes")
                    .replace("<wp:post_name>port-audit", "<wp:post_name>port-audit-2023"))  # fmt: skip
    out = run("wordpress", path)
    assert "4 stories read: 0 created, 2 updated, 2 unchanged" in out
    assert Article.objects.get(import_id="12").title == "Ferry timetable changes"
    moved = Article.objects.get(import_id="11")
    assert moved.slug == "port-audit-2023" and moved.hero_image.name == first_picture  # not copied again
    assert Client().get("/port-audit/")["Location"] == "/port-audit-2023/"
    assert Client().get("/2023/05/12/port-audit/")["Location"] == "/port-audit-2023/"
    assert Article.objects.count() == 4


def whole(article: Article) -> bool:
    """Everything the import writes for a story is there."""
    redirected = article.status == Article.Status.DRAFT or Redirect.objects.filter(new_path=article.get_absolute_url())
    return bool(article.body_html and article.authors.exists() and article.category_id and redirected)


def test_an_interrupted_import_leaves_whole_stories_and_the_next_run_finishes(tmp_path, monkeypatch):
    path = wordpress_export(tmp_path)
    real = importer.Importer.save_story
    calls = []

    def crash_on_the_third(self, *args, **kwargs):
        result = real(self, *args, **kwargs)
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the operator's Ctrl-C, or a killed process, mid-story
        return result

    monkeypatch.setattr(importer.Importer, "save_story", crash_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        run("wordpress", path, "--batch", "1")  # every story alone, through Article.save()
    assert Article.objects.count() == 2  # two whole stories; the third rolled back entirely
    assert all(whole(a) for a in Article.objects.all())

    monkeypatch.setattr(importer.Importer, "save_story", real)
    out = run("wordpress", path)
    assert "4 stories read: 2 created, 0 updated, 2 unchanged" in out
    assert Article.objects.count() == 4 and all(whole(a) for a in Article.objects.all())
    assert Redirect.objects.filter(old_path="/2023/05/12/port-audit/").count() == 1


def test_an_interrupted_batch_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    path = wordpress_export(tmp_path)
    real = importer.Importer._fill
    calls = []

    def crash_on_the_third(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    monkeypatch.setattr(importer.Importer, "_fill", crash_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        run("wordpress", path)
    assert Article.objects.count() < 4 and all(whole(a) for a in Article.objects.all())
    monkeypatch.setattr(importer.Importer, "_fill", real)
    run("wordpress", path)
    assert Article.objects.count() == 4 and all(whole(a) for a in Article.objects.all())
    assert Redirect.objects.count() == 3


def test_malicious_html_never_reaches_a_page(tmp_path):
    path = tmp_path / "evil.xml"
    path.write_text(wxr(wp_post(21, "Evil markup", "evil-markup", EVIL)))
    run("wordpress", path)
    article = Article.objects.get(slug="evil-markup")
    html = Client().get("/evil-markup/").content.decode()
    body = html[html.index("article__body") :]
    for stored in (article.body, article.body_html, body):
        for bad in ("<script", "onerror", "onload", "onclick", "onmouseover", "javascript:", "<svg", "<iframe"):
            assert bad not in stored.lower()
    assert "Before." in body and "After." in body and ">click</a>" in body


def test_bad_input_is_a_line_in_the_report_and_the_rest_is_imported(tmp_path):
    make_article(title="Native story").__class__.objects.filter(title="Native story").update(slug="taken-slug")
    (tmp_path / "uploads").mkdir()
    (tmp_path / "uploads" / "broken.png").write_bytes(b"\x89PNG not really a picture")
    broken = "<wp:postmeta><wp:meta_key>_thumbnail_id</wp:meta_key><wp:meta_value>91</wp:meta_value></wp:postmeta>"
    path = tmp_path / "mixed.xml"
    path.write_text(wxr(
        wp_post(31, "", "no-title", "<p>Nobody named me.</p>"),
        wp_post(32, "Same address", "taken-slug", "<p>One.</p>", extra=broken),
        wp_post(33, "Twin one", "twins", "<p>One.</p>"),
        wp_post(34, "Twin two", "twins", "<p>Two.</p>"),
        wp_post(35, "Search me", "search", "<p>A slug the site uses for itself.</p>"),
        """<item><title>broken</title><wp:post_id>91</wp:post_id><wp:post_type>attachment</wp:post_type>
           <wp:attachment_url>https://old.example/uploads/broken.png</wp:attachment_url></item>""",
    ))  # fmt: skip
    out = run("wordpress", path)
    assert "skipped  31: it has no headline" in out
    assert "web address “taken-slug” is taken: imported as “taken-slug-2”" in out
    assert "main picture broken.png does not open as a picture" in out
    assert "web address “twins” is taken: imported as “twins-2”" in out
    assert "web address “search” is taken: imported as “search-2”" in out
    assert "5 stories read: 4 created, 0 updated, 0 unchanged, 1 skipped, 0 failed" in out
    assert Article.objects.get(import_id="32").hero_image == ""
    assert Client().get("/2023/05/12/twins/")["Location"] == "/twins/"
    assert "old address /2023/05/12/twins/ already leads to the page of “Twin one”: left as it is" in out
    assert Client().get("/twins-2/").status_code == 200


def test_an_unreadable_export_is_a_clear_error_and_writes_nothing(tmp_path):
    bad_xml = tmp_path / "bad.xml"
    bad_xml.write_text(wxr(wp_post(41, "Fine", "fine", "<p>x</p>")).replace("</channel>", "<unclosed></channel>"))
    with pytest.raises(CommandError, match="not a readable WordPress export"):
        run("wordpress", bad_xml)
    bomb = tmp_path / "bomb.xml"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                    "<rss><channel><item><title>&b;</title></item></channel></rss>")  # fmt: skip
    run("wordpress", bomb)  # entities are never expanded: no story, no crash
    with pytest.raises(CommandError, match="no such file"):
        run("wordpress", tmp_path / "missing.xml")
    not_ghost = tmp_path / "x.json"
    not_ghost.write_text('{"hello": 1}')
    with pytest.raises(CommandError, match="not a Ghost export"):
        run("ghost", not_ghost)
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(CommandError, match="not a readable Ghost export"):
        run("ghost", tmp_path / "junk.json")
    with pytest.raises(CommandError, match="not a readable Substack export"):
        run("substack", bad_xml)
    with pytest.raises(CommandError, match="invalid choice"):
        run("blogger", bad_xml)
    assert Article.objects.count() == 0


# --- Ghost (JSON)


def ghost_export(tmp_path) -> object:
    png(tmp_path / "content" / "images" / "2024" / "01" / "harbor.png")
    html_public = "<p>Ferries run late again.</p><p>Riders are angry.</p><p>The board meets Monday.</p>"
    posts = [
        {"id": "g1", "title": "Ferries run late", "slug": "ferries-late", "html": html_public, "type": "post",
         "status": "published", "visibility": "public", "published_at": "2024-01-10T09:00:00.000Z",
         "custom_excerpt": "Third delay this month.",
         "feature_image": "__GHOST_URL__/content/images/2024/01/harbor.png"},
        {"id": "g2", "title": "Inside the port's books", "slug": "port-books", "type": "post",
         "html": f"<p>Free opening.</p><!--members-only--><p>{PAID}</p>", "status": "published",
         "visibility": "paid", "published_at": "2024-01-11T09:00:00.000Z", "custom_excerpt": None},
        {"id": "g3", "title": "Members hear first", "slug": "members-first", "type": "post",
         "html": "<p>For members.</p><p>Second.</p>", "status": "published", "visibility": "members",
         "published_at": "2024-01-12T09:00:00.000Z"},
        {"id": "g4", "title": "Clash of addresses", "slug": "taken-by-us", "type": "post",
         "html": "<p>Collides.</p>", "status": "published", "visibility": "public",
         "published_at": "2024-01-13T09:00:00.000Z"},
        {"id": "g5", "title": "Only lexical", "slug": "only-lexical", "type": "post", "html": None,
         "lexical": '{"root":{}}', "status": "draft", "visibility": "public"},
        {"id": "g6", "title": "About us", "slug": "about", "type": "page", "html": "<p>A page.</p>",
         "status": "published", "visibility": "public"},
        {"id": "g7", "title": "Evil Ghost", "slug": "evil-ghost", "type": "post", "html": EVIL,
         "status": "published", "visibility": "public", "published_at": "2024-01-14T09:00:00.000Z"},
    ]  # fmt: skip
    data = {
        "posts": posts,
        "users": [{"id": "u1", "name": "Ada Byline", "slug": "ada", "email": "ada@old.example"},
                  {"id": "u2", "name": "Cy Desk", "slug": "cy", "email": "cy@old.example"}],
        "tags": [{"id": "t1", "name": "Transit", "slug": "transit"}, {"id": "t2", "name": "Boats", "slug": "boats"},
                 {"id": "t3", "name": "#hidden", "slug": "hash-hidden", "visibility": "internal"}],
        "posts_tags": [{"post_id": "g1", "tag_id": "t3", "sort_order": 0},
                       {"post_id": "g1", "tag_id": "t2", "sort_order": 2},
                       {"post_id": "g1", "tag_id": "t1", "sort_order": 1},
                       {"post_id": "g2", "tag_id": "t2", "sort_order": 0}],
        "posts_authors": [{"post_id": "g1", "author_id": "u1", "sort_order": 0},
                          {"post_id": "g1", "author_id": "u2", "sort_order": 1},
                          {"post_id": "g2", "author_id": "u2", "sort_order": 0}],
        "posts_meta": [{"post_id": "g1", "feature_image_alt": "A ferry at the pier",
                        "feature_image_caption": "Photo: <a href=\"https://x.example\">Desk</a>"}],
    }  # fmt: skip
    path = tmp_path / "ghost.json"
    path.write_text(json.dumps({"db": [{"meta": {"version": "5.80.0"}, "data": data}]}))
    return path


def test_ghost_end_to_end_dry_run_then_import_then_nothing_changes(tmp_path):
    """Issue 25's "done means" for the archive: one dry run, one real run, every story
    reachable, every old address a 301 to it (or already its page), a second run a no-op."""
    make_article(title="Ours first").__class__.objects.filter(title="Ours first").update(slug="taken-by-us")
    path = ghost_export(tmp_path)
    before = snapshot()
    dry = run("ghost", path, "--dry-run", "--permalink", "/{year}/{month}/{slug}/")
    assert snapshot() == before
    assert "5 would be created" in dry and "skipped  g5: it has no HTML, only lexical" in dry

    out = run("ghost", path, "--permalink", "/{year}/{month}/{slug}/")
    assert "6 stories read: 5 created, 0 updated, 0 unchanged, 1 skipped, 0 failed" in out
    client = Client()
    for article in Article.objects.filter(import_source="ghost"):
        page = client.get(article.get_absolute_url())
        assert page.status_code == 200 and article.title in page.content.decode()
        old = Redirect.objects.get(new_path=article.get_absolute_url())
        answer = client.get(old.old_path)
        assert (answer.status_code, answer["Location"]) == (301, article.get_absolute_url())
    assert Redirect.objects.filter(old_path="/2024/01/ferries-late/").exists()

    second = run("ghost", path, "--permalink", "/{year}/{month}/{slug}/")
    assert "6 stories read: 0 created, 0 updated, 5 unchanged, 1 skipped" in second
    assert snapshot()["articles"] == sorted(Article.objects.values_list("slug", "updated_at"))


def test_ghost_access_tags_authors_and_pictures(tmp_path):
    make_article(title="Ours first").__class__.objects.filter(title="Ours first").update(slug="taken-by-us")
    out = run("ghost", ghost_export(tmp_path))
    ferries = Article.objects.get(import_id="g1")
    assert ferries.access == Article.Access.FREE and ferries.standfirst == "Third delay this month."
    assert ferries.category.name == "Transit" and [t.name for t in ferries.tags.all()] == ["Boats"]
    assert [a.name for a in ferries.authors.order_by("name")] == ["Ada Byline", "Cy Desk"]
    assert (ferries.hero_alt, ferries.hero_caption) == ("A ferry at the pier", "Photo: Desk")
    assert ferries.hero_image and ferries.import_hero_url.endswith("/2024/01/harbor.png")
    assert Article.objects.get(import_id="g3").access == Article.Access.METERED  # members: the closest level
    paid = Article.objects.get(import_id="g2")
    assert paid.access == Article.Access.SUBSCRIBERS and paid.category.name == "Boats"
    html = Client().get("/port-books/").content.decode()
    assert "Free opening." in html and 'class="paywall"' in html and PAID not in html
    assert "web address “taken-by-us” is taken: imported as “taken-by-us-2”" in out
    assert "old address /taken-by-us/ is the page of “Ours first” here" in out
    assert not Article.objects.filter(slug="about").exists()  # pages are not stories
    evil = Client().get("/evil-ghost/").content.decode()
    assert "alert(" not in evil[evil.index("article__body") :] and "javascript:" not in evil


def test_a_ghost_picture_missing_from_the_folder_is_kept_as_its_address(tmp_path):
    path = ghost_export(tmp_path)
    (tmp_path / "content" / "images" / "2024" / "01" / "harbor.png").unlink()
    out = run("ghost", path)
    ferries = Article.objects.get(import_id="g1")
    assert not ferries.hero_image and ferries.import_hero_url == "__GHOST_URL__/content/images/2024/01/harbor.png"
    assert "main picture __GHOST_URL__/content/images/2024/01/harbor.png is not in" in out


# --- Substack (zip)


def substack_zip(tmp_path) -> object:
    path = tmp_path / "substack-export.zip"
    rows = [
        "post_id,post_date,is_published,email_sent_at,inbox_sent_at,type,audience,title,subtitle,podcast_url",
        "101.harbor-letter,2024-02-01T12:00:00.000Z,true,,,newsletter,everyone,Harbor letter,Weekly notes,",
        '102.paid-dispatch,2024-02-02T12:00:00.000Z,true,,,newsletter,only_paid,"Paid dispatch, with comma",,',
        "103.draft-thing,,false,,,newsletter,everyone,Draft thing,,",
        "104.lost-body,2024-02-03T12:00:00.000Z,true,,,newsletter,everyone,Lost body,,",
    ]
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("posts.csv", "\n".join(rows) + "\n")
        zf.writestr("posts/101.harbor-letter.html", "<p>Dear readers,</p><p>The tide.</p>")
        zf.writestr(
            "posts/102.paid-dispatch.html",
            '<p>Opening for all.</p><div class="paywall-jump" data-component-name="PaywallToDOM"></div>'
            f"<p>{PAID}</p><p>Closing.</p>",
        )
        zf.writestr("posts/103.draft-thing.html", "<p>Not yet.</p>")
    return path


def test_substack_zip_stories_access_and_old_addresses(tmp_path):
    out = run("substack", substack_zip(tmp_path), "--default-author", "Lena Letters")
    assert "4 stories read: 3 created, 0 updated, 0 unchanged, 1 skipped" in out
    assert "skipped  104.lost-body: its body posts/104.lost-body.html is not in the export" in out
    letter = Article.objects.get(import_source="substack", import_id="101")
    assert (letter.access, letter.standfirst, letter.category.name) == ("free", "Weekly notes", "Archive")
    assert [a.name for a in letter.authors.all()] == ["Lena Letters"]
    paid = Article.objects.get(slug="paid-dispatch")
    assert paid.title == "Paid dispatch, with comma" and paid.access == Article.Access.SUBSCRIBERS
    client = Client()
    html = client.get("/paid-dispatch/").content.decode()
    assert "Opening for all." in html and 'class="paywall"' in html and PAID not in html
    answer = client.get("/p/paid-dispatch")
    assert (answer.status_code, answer["Location"]) == (301, "/paid-dispatch/")
    assert client.get("/p/harbor-letter")["Location"] == "/harbor-letter/"
    assert Article.objects.get(slug="draft-thing").status == Article.Status.DRAFT
    assert "6 stories" not in run("substack", substack_zip(tmp_path), "--default-author", "Lena Letters")


def test_substack_unpacked_folder_reads_the_same(tmp_path):
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(substack_zip(tmp_path)) as zf:
        zf.extractall(folder)
    out = run("substack", folder)
    assert "3 created" in out and "no byline in the export" in out


# --- the body, alone


def test_imported_html_renders_as_it_was_through_the_sites_own_renderer():
    source = (
        "<h1>Top</h1><div><p>In a div with *stars* and _underscores_.</p></div>"
        "<pre><code>[paywall]\nhttps://www.youtube.com/watch?v=abcdefghijk\n[image 3]</code></pre>"
        '<iframe src="https://www.youtube.com/embed/abcdefghijk"></iframe><!--members-only--><h5>Small</h5><p>End</p>'
    )
    converted = bodies.convert(source)
    assert converted.has_paywall
    html = rendering.render_body(converted.markdown)
    assert "<h2>Top</h2>" in html and "<p>In a div with *stars* and _underscores_.</p>" in html
    assert "[paywall]\nhttps://www.youtube.com/watch?v=abcdefghijk\n[image 3]</code></pre>" in html
    assert 'data-embed-src="https://www.youtube-nocookie.com/embed/abcdefghijk"' in html
    teaser, full = rendering.split_body(html, 3)
    assert "<h4>Small</h4>" not in teaser and "<h4>Small</h4><p>End</p>" in full.replace("\n", "")
