"""Members in the admin: what an import brought (labels, note, where from), and the
export of every member as CSV (the same file as `manage.py export_members`)."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import path
from django.utils import timezone

from newsroom.admin_typeahead import TypeAheadMixin
from subscriptions.models import MemberProfile

from . import export


@admin.register(MemberProfile)
class MemberProfileAdmin(TypeAheadMixin, admin.ModelAdmin):
    list_display = ["user", "labels", "source", "source_id", "imported_at"]
    list_filter = ["source"]
    search_fields = ["user__email", "labels", "note"]
    autocomplete_fields = ["user"]
    readonly_fields = ["source", "source_id", "imported_at"]
    fields = ["user", "labels", "note", "source", "source_id", "imported_at"]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        # The add form takes nothing from the address: `?user=<not an id>` made the
        # reader picker query with it and answer 500 (tests/test_fuzz_urls.py).
        return {}

    def get_urls(self):
        return [
            path("export/", self.admin_site.admin_view(self.export_view), name="members_export"),
            *super().get_urls(),
        ]

    def export_view(self, request: HttpRequest) -> StreamingHttpResponse:
        # Everything held about every reader: for those who may see accounts and billing alike.
        if not (request.user.has_perm("auth.view_user") and request.user.has_perm("subscriptions.view_subscription")):
            raise PermissionDenied
        response = StreamingHttpResponse(export.csv_lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="members-{timezone.now():%Y-%m-%d}.csv"'
        response["Cache-Control"] = "private, no-store"
        return response
