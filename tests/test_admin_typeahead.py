"""Every admin type-ahead picker (autocomplete_fields) refuses a forged value with the
form's message instead of a 500: Django's picker looked the value up as an id."""

import pytest
from django.test import Client

from .conftest import make_user

pytestmark = pytest.mark.django_db

FORGED = ["ünïcødé \u202e\ufeff 𝕏 \u0301", "x", "²", "1e3", "-1 OR 1=1"]


@pytest.fixture
def staff_client() -> Client:
    client = Client()
    client.force_login(make_user("root@example.com", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("value", FORGED)
@pytest.mark.parametrize(
    "url, field",
    [
        ("/admin/subscriptions/memberprofile/add/", "user"),
        ("/admin/subscriptions/complimentaryaccess/add/", "user"),
        ("/admin/articles/article/add/", "authors"),
        ("/admin/articles/article/add/", "tags"),
    ],
)
def test_a_forged_pick_is_refused_with_a_message(staff_client, url, field, value) -> None:
    response = staff_client.post(url, {field: value})
    assert response.status_code == 200  # the form again, not a 500 and not a save
    errors = response.context["adminform"].form.errors
    assert field in errors
    assert "valid" in " ".join(errors[field]).lower()
