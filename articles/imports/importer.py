"""Write imported stories: one transaction per story, nothing duplicated, old addresses kept.

Each story is found again by (import_source, import_id) — unique together on
Article — so a second run updates what changed and leaves the rest: a story
whose fingerprint (Story.digest) is the one stored is "unchanged" and not even
re-saved. Each story is written in its own transaction (the article, its byline,
topics and redirects together), so an interrupted import leaves whole stories
only, and running it again finishes the job.

A story goes through Article.save() like an editor's: its body is rendered and
sanitized by rendering.py, the teaser cut, the search vectors filled, pictures
given their renditions, cached pages retired.

Old addresses become rows of django.contrib.redirects' table, which its
fallback middleware answers with a 301 only when the site itself has no page
there (a 404): nothing is looked up on any other request.

A dry run does all of it inside one transaction that is rolled back at the end,
and copies no picture: it reports exactly what the real run would do and
writes nothing (the page cache's generation still moves, so cached pages are
rendered once more).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.redirects.models import Redirect
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.text import Truncator, slugify
from PIL import Image

from articles import images, page_cache, rendering
from articles.models import Article, Author, Category, InlineImage, Tag, update_search_vector

from . import body as bodies
from .story import Person, Skipped, Story, Term, old_path

Write = Callable[[str], None]


@dataclass
class Counts:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    problems: int = 0
    redirects: int = 0

    def summary(self, *, dry_run: bool) -> str:
        would = "would be " if dry_run else ""
        return (
            f"{self.read} stories read: {self.created} {would}created, {self.updated} {would}updated, "
            f"{self.unchanged} unchanged, {self.skipped} skipped, {self.failed} failed; "
            f"{self.problems} problems; {self.redirects} old addresses {would}redirected"
        )


class Importer:
    def __init__(
        self,
        *,
        source: str,
        media_dir: Path | None,
        write: Write,
        dry_run: bool = False,
        default_section: str = "Archive",
        default_author: str = "",
        verbose: bool = False,
        batch: int = 200,
    ) -> None:
        self.source = source
        self.media_dir = media_dir.resolve() if media_dir else None
        self.write = write
        self.dry_run = dry_run
        self.default_section = Term(name=default_section)
        self.default_author = Person(name=default_author) if default_author else None
        self.verbose = verbose
        self.batch = max(1, batch)  # 1: every story alone, through Article.save()
        self.counts = Counts()
        self._ids: dict[tuple[str, str], int] = {}  # (kind, key) -> id of sections, authors, topics

    # --- the run

    def run(self, stories: Iterable[Story | Skipped], progress: Callable[[Counts], None] | None = None) -> Counts:
        if not self.dry_run:
            self._each(stories, progress)
            return self.counts
        with transaction.atomic():
            self._each(stories, progress)
            transaction.set_rollback(True)
        return self.counts

    def _each(self, stories: Iterable[Story | Skipped], progress: Callable[[Counts], None] | None) -> None:
        batch: list[Story] = []
        for story in stories:
            self.counts.read += 1
            if isinstance(story, Skipped):
                self._skip(story.source_id, story.reason)
            else:
                batch.append(story)
            if len(batch) >= self.batch:
                self._import_batch(batch)
                batch = []
            if progress:
                progress(self.counts)
        self._import_batch(batch)

    def _import_batch(self, stories: list[Story]) -> None:
        """Stories already here and unchanged: counted. New ones without a picture: created
        together (_create_together). Everything else: one at a time (import_one)."""
        if not stories:
            return
        ids = [s.source_id for s in stories]
        stored = dict(
            Article.objects.filter(import_source=self.source, import_id__in=ids).values_list(
                "import_id", "import_digest"
            )
        )
        new: list[tuple[Story, str]] = []
        alone: list[Story] = []
        for story in stories:
            digest = story.digest()
            if story.title and stored.get(story.source_id) == digest:
                self.counts.unchanged += 1
                if self.verbose:
                    self.write(f"unchanged  {story.label}")
            elif story.title and story.source_id not in stored and not story.image_url and self.batch > 1:
                new.append((story, digest))
            else:
                alone.append(story)
        if new:
            alone += self._create_together(new)
        for story in alone:
            self.import_one(story)

    def import_one(self, story: Story) -> None:
        """One story, all or nothing; any failure is a line in the report, never the end of the run."""
        if not story.title:
            self._skip(story.source_id, "it has no headline")
            return
        existing = Article.objects.filter(import_source=self.source, import_id=story.source_id).first()
        digest = story.digest()
        if existing is not None and existing.import_digest == digest:
            self.counts.unchanged += 1
            if self.verbose:
                self.write(f"unchanged  {story.label}")
            return
        problems: list[str] = list(story.notes)
        try:
            with transaction.atomic():
                article, redirects = self.save_story(story, existing, digest, problems)
        except Exception as e:  # a story that cannot be written must not stop the others
            self._ids.clear()  # rows it created were rolled back with it
            self.counts.failed += 1
            self.counts.problems += 1
            self.write(f"FAILED  {story.label}: {type(e).__name__}: {e}")
            return
        self._done(story, article, "updated" if existing else "created", redirects, problems)

    def _done(self, story: Story, article: Article, verb: str, redirects: int, problems: list[str]) -> None:
        setattr(self.counts, verb, getattr(self.counts, verb) + 1)
        self.counts.redirects += redirects
        if self.dry_run or self.verbose or problems:
            would = "would be " if self.dry_run else ""
            self.write(f"{would}{verb}  {story.label} → {article.get_absolute_url()}")
        for problem in problems:
            self.counts.problems += 1
            self.write(f"  problem: {problem}")

    def _create_together(self, items: list[tuple[Story, str]]) -> list[Story]:
        """New stories in one transaction: one INSERT for the articles, one per join
        table, one for the redirects, one UPDATE for the search vectors, and the page cache
        retired once — what Article.save() and its signals do, story by story, in bulk.
        Returns the stories to write one at a time instead: any whose web address or old
        address is taken (those need a choice and a line in the report), or all of them
        if the batch fails (the unique (source, id) pair means none is ever written twice)."""
        alone: list[Story] = []
        # (story, its article, problems, old addresses to redirect, author ids, topic ids)
        done: list[tuple[Story, Article, list[str], list[str], list[int], list[int]]] = []
        try:
            with transaction.atomic():
                wanted = {s.source_id: self._wanted_slug(s) for s, _ in items}
                taken = set(Article.objects.filter(slug__in=wanted.values()).values_list("slug", flat=True))
                paths = {s.source_id: [old_path(p) for p in s.old_paths] for s, _ in items}
                every_path = [p for ps in paths.values() for p in ps]
                taken_paths = set(
                    Redirect.objects.filter(site_id=settings.SITE_ID, old_path__in=every_path).values_list(
                        "old_path", flat=True
                    )
                )
                for story, digest in items:
                    slug = wanted[story.source_id]
                    own = [p for p in paths[story.source_id] if p and p != f"/{slug}/"]
                    if (
                        slug in taken
                        or not _addressable(story.title, slug)
                        or any(p in taken_paths or len(p) > 200 or _page_at(p) for p in own)
                    ):
                        alone.append(story)
                        continue
                    taken.add(slug)
                    taken_paths.update(own)
                    problems = list(story.notes)
                    article = Article(import_source=self.source, import_id=story.source_id)
                    self._fill(story, article, digest, problems, slug=slug)
                    # As Article.save() does (articles/models.py): the one rendering, sanitizer and teaser cut.
                    article.word_count = rendering.word_count(article.body)
                    article.body_html = rendering.render_body(article.body, images=InlineImage.objects.in_bulk)
                    article.teaser_html, article.body_html = rendering.split_body(
                        article.body_html, settings.TEASER_PARAGRAPHS
                    )
                    redirected = own if article.status != Article.Status.DRAFT else []
                    topics = list(dict.fromkeys(self._topic(t) for t in story.topics))
                    done.append((story, article, problems, redirected, self._byline(story, problems), topics))
                if done:
                    Article.objects.bulk_create([a for _, a, *_ in done])  # sets each one's pk (PostgreSQL)
                    Article.authors.through.objects.bulk_create(
                        Article.authors.through(article_id=a.pk, author_id=i)
                        for _, a, _, _, ids, _ in done
                        for i in ids
                    )
                    Article.tags.through.objects.bulk_create(
                        Article.tags.through(article_id=a.pk, tag_id=i) for _, a, _, _, _, ids in done for i in ids
                    )
                    Redirect.objects.bulk_create(
                        Redirect(site_id=settings.SITE_ID, old_path=p, new_path=a.get_absolute_url())
                        for _, a, _, own, _, _ in done
                        for p in own
                    )
                    update_search_vector(*(a.pk for _, a, *_ in done))
        except Exception:  # each story is tried alone next, and reports its own failure
            self._ids.clear()
            return [s for s, _ in items]
        if done:
            page_cache.invalidate()  # bulk_create sends no signals: what the receivers would have done, once
        for story, article, problems, own, _, _ in done:
            self._done(story, article, "created", len(own), problems)
        return alone

    def _skip(self, source_id: str, reason: str) -> None:
        self.counts.skipped += 1
        self.counts.problems += 1
        self.write(f"skipped  {source_id}: {reason}")

    # --- one story

    def save_story(
        self, story: Story, existing: Article | None, digest: str, problems: list[str]
    ) -> tuple[Article, int]:
        """Create or update the story's article, byline, topics and redirects (the caller holds the transaction)."""
        article = existing or Article(import_source=self.source, import_id=story.source_id)
        old_url = article.get_absolute_url() if existing else ""
        self._fill(story, article, digest, problems, slug=self._slug(story, article, problems))
        picture = self._picture(story, article, problems)
        try:
            article.save()
        finally:
            if picture is not None:
                picture.close()
        article.authors.set(self._byline(story, problems))
        article.tags.set(list(dict.fromkeys(self._topic(t) for t in story.topics)))
        paths = list(story.old_paths)
        if old_url and old_url != article.get_absolute_url():
            paths.append(old_url)  # the story moved since the last run: its previous address follows it
        return article, sum(self._redirect(p, article, problems) for p in paths)

    def _fill(self, story: Story, article: Article, digest: str, problems: list[str], *, slug: str) -> None:
        """Everything but the picture, byline and topics, from the story (nothing saved)."""
        body = bodies.convert(story.html)
        if body.dropped_pictures:
            problems.append(
                f"{len(body.dropped_pictures)} picture(s) in the body left out (pictures in stories are "
                f"uploaded with alt text in the admin): {', '.join(s or '?' for s in body.dropped_pictures[:3])}"
            )
        article.title = _fit(story.title, 200, "headline", problems)
        article.slug = slug
        standfirst = _plain(story.standfirst) or Truncator(_plain(body.first_paragraph)).chars(300)
        article.standfirst = _fit(standfirst, 500, "summary", problems)
        article.body = body.markdown
        article.category_id = self._section(story.section or self.default_section)
        article.status, article.publish_at = self._when(story, problems)
        article.access = story.access
        article.import_digest = digest

    def _byline(self, story: Story, problems: list[str]) -> list[int]:
        authors = story.authors or ([self.default_author] if self.default_author else [])
        if not authors:
            problems.append("no byline in the export (--default-author gives one)")
        return list(dict.fromkeys(self._author(p) for p in authors))

    def _wanted_slug(self, story: Story) -> str:
        return (slugify(unquote(story.slug)) or slugify(story.title) or f"{self.source}-{story.source_id}")[:190]

    def _slug(self, story: Story, article: Article, problems: list[str]) -> str:
        wanted = self._wanted_slug(story)
        if article.pk and re.fullmatch(re.escape(wanted) + r"(-\d+)?", article.slug):
            return article.slug  # as the last run left it
        for n in range(1, 1000):
            candidate = wanted if n == 1 else f"{wanted}-{n}"
            if Article.objects.filter(slug=candidate).exclude(pk=article.pk).exists():
                continue
            if not _addressable(story.title, candidate):
                continue
            if n > 1:
                problems.append(f"web address “{wanted}” is taken: imported as “{candidate}”")
            return candidate
        raise ValueError(f"no free web address for “{wanted}”")

    def _when(self, story: Story, problems: list[str]) -> tuple[str, object]:
        status, when = story.status, story.publish_at
        if when is None:
            if status == Article.Status.SCHEDULED:
                problems.append("scheduled with no time: imported as a draft")
                status = Article.Status.DRAFT
            elif status == Article.Status.PUBLISHED:
                problems.append("no publication date: dated now")
            when = timezone.now()
        return status, when

    def _picture(self, story: Story, article: Article, problems: list[str]) -> BinaryIO | None:
        """Set the main picture's fields; returns the picture's file, open, when one is to be copied."""
        article.hero_alt = _fit(story.image_alt, 250, "picture's alt text", problems)
        article.hero_caption = Truncator(_plain(story.image_caption)).chars(300)
        if story.image_url == article.import_hero_url and (article.hero_image or not story.image_url):
            return None  # the same picture as last time, already here (or none)
        article.import_hero_url = story.image_url[:1000]
        article.hero_image = ""
        if not story.image_url:
            return None
        local = self._local_file(story.image_url)
        if local is None:
            where = self.media_dir or "the export's folder"
            problems.append(f"main picture {story.image_url} is not in {where}: kept as its old address only")
            return None
        refused = _refused_picture(local)
        if refused:
            problems.append(f"main picture {local.name} {refused}: imported without it")
            return None
        if not story.image_alt:
            problems.append("main picture has no alt text: describe it in the admin")
        if self.dry_run:  # a dry run copies no file
            return None
        handle = open(local, "rb")  # closed by save_story once saved
        article.hero_image = File(handle, name=local.name)
        return handle

    def _local_file(self, url: str) -> Path | None:
        """The picture's file under the media folder: its address's path, or any tail of it
        (`wp-content/uploads/2023/05/a.jpg`, `uploads/2023/05/a.jpg`, … `a.jpg`)."""
        if self.media_dir is None:
            return None
        parts = [p for p in unquote(urlsplit(url.replace("__GHOST_URL__", "")).path).split("/") if p]
        if not parts or any(p in (".", "..") for p in parts):
            return None
        for start in range(len(parts)):
            candidate = self.media_dir.joinpath(*parts[start:]).resolve()
            if candidate.is_relative_to(self.media_dir) and candidate.is_file():
                return candidate
        return None

    def _redirect(self, path: str, article: Article, problems: list[str]) -> int:
        new = article.get_absolute_url()
        path = old_path(path)
        if not path or path == new:
            return 0
        if len(path) > 200:
            problems.append(f"old address {path[:60]}… is longer than the redirect table takes (200): not redirected")
            return 0
        if article.status == Article.Status.DRAFT:
            return 0
        shadow = _page_at(path)
        if shadow:
            problems.append(f"old address {path} is {shadow} here: its redirect never applies")
        redirect, created = Redirect.objects.get_or_create(
            site_id=settings.SITE_ID, old_path=path, defaults={"new_path": new}
        )
        if created:
            return 1
        if redirect.new_path != new:
            holder = _page_at(redirect.new_path)
            if holder:  # first come, first served: another story's old address stays its own
                problems.append(f"old address {path} already leads to {holder}: left as it is")
                return 0
            problems.append(f"old address {path} led to {redirect.new_path}, where nothing is now: leads here")
            redirect.new_path = new
            redirect.save(update_fields=["new_path"])
            return 1
        return 0

    # --- sections, bylines, topics: found or made once per run

    def _section(self, term: Term) -> int:
        return self._term(Category, "section", term)

    def _topic(self, term: Term) -> int:
        return self._term(Tag, "topic", term)

    def _term(self, model: type[Category] | type[Tag], kind: str, term: Term) -> int:
        name = term.name.strip()[:80] or term.slug
        slug = (slugify(unquote(term.slug)) or slugify(name) or kind)[:80]
        key = (kind, slug)
        if key not in self._ids:
            found = model.objects.filter(slug=slug).first() or model.objects.filter(name__iexact=name).first()
            if found is None:
                found = model.objects.create(name=name, slug=slug)
            self._ids[key] = found.pk
        return self._ids[key]

    def _author(self, person: Person) -> int:
        """By email (the author profile of the account with that address), else by web
        address (slug), else a new author. No account is created or linked."""
        slug = (slugify(person.slug) or slugify(person.name) or "author")[:120]
        key = ("author", person.email.lower() or slug)
        if key not in self._ids:
            found = None
            if person.email:
                user = get_user_model().objects.filter(email__iexact=person.email, author_profile__isnull=False).first()
                found = user.author_profile if user else None
            found = found or Author.objects.filter(slug=slug).first()
            if found is None:
                found = Author.objects.create(name=(person.name or slug)[:120], slug=slug)
            self._ids[key] = found.pk
        return self._ids[key]


def _addressable(title: str, slug: str) -> bool:
    """Whether /<slug>/ would show the story, not one of the site's own pages (Article.clean's rule)."""
    try:
        Article(title=title, slug=slug).clean()
    except ValidationError:
        return False
    return True


def _plain(text: str) -> str:
    """Text from what may be HTML (excerpts, captions): tags gone, entities read."""
    return html.unescape(rendering.plain_text(text or "")) if text else ""


def _fit(text: str, limit: int, what: str, problems: list[str]) -> str:
    if len(text) <= limit:
        return text
    problems.append(f"{what} shortened to {limit} characters")
    return Truncator(text).chars(limit)


def _refused_picture(path: Path) -> str | None:
    """Why this file cannot be a main picture, or None: it must open as a picture
    within MAX_IMAGE_PIXELS (read from its header; nothing is decoded here)."""
    try:
        with open(path, "rb") as fh:
            width, height = images.declared_size(fh)
            fh.seek(0)
            with Image.open(fh) as image:
                image.verify()
    except Exception as e:  # Pillow raises many kinds for a broken file
        return f"does not open as a picture ({type(e).__name__})"
    too_big = images.too_many_pixels(width, height)
    return f"is too large ({width} × {height} pixels)" if too_big else None


def _page_at(path: str) -> str:
    """What the site itself answers at an old address, if anything ("" for a 404)."""
    try:
        match = resolve(unquote(path.split("?", 1)[0]))
    except Resolver404:
        return ""
    if match.view_name != "articles:detail":
        return "one of the site's own pages"
    other = Article.objects.filter(slug=match.kwargs.get("slug", "")).first()
    return f"the page of “{other.title}”" if other else ""
