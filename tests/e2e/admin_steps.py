"""Steps in the newsroom admin shared by the editors' journeys."""

from __future__ import annotations

from playwright.sync_api import Page, expect


def pick(page: Page, field: str, label: str) -> None:
    """Choose `label` in a type-ahead picker (autocomplete_fields: Django's select2): open it,
    type the start of the name, take the suggestion the server answers with."""
    page.locator(f".field-{field} .select2-selection").click()
    search = page.locator(".select2-container--open .select2-search__field")
    search.fill(label[:4])
    page.locator(".select2-results__option", has_text=label).click()
    expect(page.locator(f"select[name={field}] option:checked", has_text=label)).to_have_count(1)
