"""Django's type-ahead pickers (`autocomplete_fields`), safe with forged values.

Django's picker asks the database for the labels of the chosen ids as they came
in the form: a value that is no id (a forged POST, a hand-made `?user=x`) made
that query raise and the admin answer 500 (tests/test_fuzz_urls.py). Here such
values are left out of the picker; the form's own validation then refuses them
with its usual message. Every admin with `autocomplete_fields` uses `TypeAheadMixin`.
"""

from __future__ import annotations

from django.contrib.admin import widgets


def _ids(value) -> list:
    return [v for v in value if str(v).isascii() and str(v).isdigit()]


class TypeAhead(widgets.AutocompleteSelect):
    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, _ids(value), attr)


class TypeAheadMultiple(widgets.AutocompleteSelectMultiple):
    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, _ids(value), attr)


class TypeAheadMixin:
    """For a ModelAdmin: its `autocomplete_fields` get the pickers above."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request):
            kwargs.setdefault("widget", TypeAhead(db_field, self.admin_site, using=kwargs.get("using")))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request):
            kwargs.setdefault("widget", TypeAheadMultiple(db_field, self.admin_site, using=kwargs.get("using")))
        return super().formfield_for_manytomany(db_field, request, **kwargs)
