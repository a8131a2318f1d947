"""Signal receivers (imported by ArticlesConfig.ready): cached article pages
and the section menu go stale when what they show changes."""

from django.conf import settings
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from newsroom import versioned_cache
from subscriptions.models import PLANS_VERSION, Plan

from . import page_cache
from .models import Article, Author, Category, Comment, InlineImage, Tag
from .templatetags.newsroom import SECTIONS_VERSION


@receiver([post_save, post_delete], sender=Author)
@receiver([post_save, post_delete], sender=Category)
@receiver([post_save, post_delete], sender=Plan)
@receiver([post_save, post_delete], sender=Tag)
def forget_pages(sender, **kwargs) -> None:
    """Sections (the menu), plans (the paywall's price), authors and topics (bylines and
    topic names on lists and stories) show on most pages: all of them. What renders read
    of sections and plans from the cache goes first, each time (now and on commit), so a
    page rendered in between is made from the new rows."""
    if sender is Category:
        versioned_cache.retire(SECTIONS_VERSION)
    elif sender is Plan:
        versioned_cache.retire(PLANS_VERSION)
    page_cache.invalidate()


@receiver(pre_save, sender=Article)
def remember_what_readers_saw(instance: Article, **kwargs) -> None:
    fields = ("slug", "category_id", "publish_at", "status")
    before = Article.objects.filter(pk=instance.pk).only(*fields).first() if instance.pk else None
    instance._shown_before = page_cache.Shown.of(before) if before else None


@receiver(post_save, sender=Article)
def forget_saved_story(instance: Article, **kwargs) -> None:
    page_cache.forget_story(before=getattr(instance, "_shown_before", None), after=page_cache.Shown.of(instance))


@receiver(pre_delete, sender=Article)
def remember_what_readers_saw_of_a_deleted_story(instance: Article, **kwargs) -> None:
    instance._shown_before = page_cache.Shown.of(instance)  # its bylines and topics go before post_delete


@receiver(post_delete, sender=Article)
def forget_deleted_story(instance: Article, **kwargs) -> None:
    page_cache.forget_story(before=getattr(instance, "_shown_before", None), after=None)


@receiver(m2m_changed, sender=Article.authors.through)
@receiver(m2m_changed, sender=Article.tags.through)
def forget_story_bylines_and_topics(instance, action: str, reverse: bool, **kwargs) -> None:
    if reverse:  # from the author's or topic's side: which stories changed is not at hand
        if action.startswith("post_"):
            page_cache.invalidate()
        return
    if action.startswith("pre_"):  # the lists it left are known only before
        instance._bylines_before = page_cache.Shown.of(instance)
        return
    page_cache.forget_story(before=getattr(instance, "_bylines_before", None), after=page_cache.Shown.of(instance))


@receiver([post_save, post_delete], sender=InlineImage)
def redraw_stories_with_picture(instance: InlineImage, created: bool = False, **kwargs) -> None:
    """A story's body is drawn with its pictures when the story is saved (Article.save):
    the stories showing a picture that was corrected (its alt text, caption, credit or
    file) or deleted are drawn again, and each save retires its pages as any edit does.
    A new picture is in no story yet: the desk refuses a line naming a missing one."""
    if created:
        return
    for story in Article.objects.showing_picture(instance.pk):
        story.save()


@receiver([post_save, post_delete], sender=Comment)
def forget_comments(instance: Comment, **kwargs) -> None:
    """Pages show the article's comment count, and its cached row carries it."""
    page_cache.forget_comments(instance.article.slug)


def _forget_pages_naming(user) -> None:
    """Retire the pages of the stories `user` commented on: each comment shows its writer's name."""
    for slug in Comment.objects.filter(user=user).order_by().values_list("article__slug", flat=True).distinct():
        page_cache.forget_comments(slug)


@receiver(pre_delete, sender=settings.AUTH_USER_MODEL)
def forget_a_leavers_comments(instance, **kwargs) -> None:
    """A deleted account's comments pass to "Deleted reader" in one UPDATE (Comment.user's
    on_delete), which sends no comment's signal: the pages that name them go stale too."""
    _forget_pages_naming(instance)


# What a comment shows of its writer (templatetags/newsroom.display_name).
_SHOWN_NAME = ("first_name", "last_name", "username")


@receiver(pre_save, sender=settings.AUTH_USER_MODEL)
def remember_a_commenters_name(instance, update_fields=None, **kwargs) -> None:
    """The name an account's comments were shown under, before a save that may change it
    (staff renaming an offensive name in the admin); a log-in's save of last_login cannot."""
    if instance.pk is not None and (update_fields is None or set(update_fields) & set(_SHOWN_NAME)):
        instance._name_before = type(instance).objects.filter(pk=instance.pk).values_list(*_SHOWN_NAME).first()


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def forget_a_renamed_commenters_pages(instance, **kwargs) -> None:
    """A renamed account's comments show the new name at once, not when their pages expire."""
    before = instance.__dict__.pop("_name_before", None)
    if before is not None and before != tuple(getattr(instance, field) for field in _SHOWN_NAME):
        _forget_pages_naming(instance)

