"""Comment moderation for editors: hide/unhide, see reports, remove.

A hidden comment disappears for readers at once (articles/comments.py shows
only `is_hidden=False`); removing deletes it and its replies.
"""

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from .models import Comment, CommentReport


class HasReportsFilter(admin.SimpleListFilter):
    title = "reports"
    parameter_name = "reported"

    def lookups(self, request, model_admin):
        return [("yes", "Reported"), ("no", "Not reported")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(report_count__gt=0)
        if self.value() == "no":
            return queryset.filter(report_count=0)
        return queryset


class CommentReportInline(admin.TabularInline):
    model = CommentReport
    extra = 0
    fields = ["user", "reason", "created_at"]
    readonly_fields = fields
    can_delete = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


def _set_hidden(queryset: QuerySet, hidden: bool) -> int:
    """save() per comment, not update(): its signal retires the article's cached
    pages, which show the visible-comment count."""
    count = 0
    for comment in queryset.select_related("article"):
        comment.is_hidden = hidden
        comment.save(update_fields=["is_hidden"])
        count += 1
    return count


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["short_body", "user", "article", "created_at", "is_hidden", "report_count", "is_reply"]
    list_filter = ["is_hidden", HasReportsFilter, "created_at"]
    search_fields = ["body", "user__email", "article__title"]
    list_select_related = ["user", "article"]
    readonly_fields = ["article", "user", "parent", "created_at", "edited_at", "body"]
    fields = ["article", "user", "parent", "body", "created_at", "edited_at", "is_hidden"]
    actions = ["hide", "unhide"]
    inlines = [CommentReportInline]
    date_hierarchy = "created_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(report_count=Count("reports"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # comments come from readers, not the admin

    @admin.display(description="comment")
    def short_body(self, obj: Comment) -> str:
        return obj.body[:80] + ("…" if len(obj.body) > 80 else "")

    @admin.display(description="reports", ordering="report_count")
    def report_count(self, obj: Comment) -> int:
        return obj.report_count

    @admin.display(description="reply", boolean=True)
    def is_reply(self, obj: Comment) -> bool:
        return obj.parent_id is not None

    @admin.action(description="Hide selected comments from readers", permissions=["change"])
    def hide(self, request: HttpRequest, queryset: QuerySet) -> None:
        updated = _set_hidden(queryset, True)
        self.message_user(request, f"{updated} comment(s) hidden.")

    @admin.action(description="Show selected comments again", permissions=["change"])
    def unhide(self, request: HttpRequest, queryset: QuerySet) -> None:
        updated = _set_hidden(queryset, False)
        self.message_user(request, f"{updated} comment(s) visible again.")


@admin.register(CommentReport)
class CommentReportAdmin(admin.ModelAdmin):
    list_display = ["comment", "user", "reason", "created_at"]
    list_select_related = ["comment", "user"]
    search_fields = ["reason", "comment__body"]
    readonly_fields = ["comment", "user", "reason", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
