"""import_members and export_members: a newsroom's readers arrive from Ghost, Substack or
a plain CSV, and can leave the same way."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.test import Client

from members.sources import COMP_NO_END
from newsletter.models import Preference
from subscriptions.models import ComplimentaryAccess, MemberProfile, StripeCustomer
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

User = get_user_model()
GHOST_HEADER = (
    "id,email,name,note,subscribed_to_emails,complimentary_plan,stripe_customer_id,created_at,deleted_at,labels,tiers"
)
GHOST_ROWS = [
    'g1,ann@ghost.example,Ann Lee,met at the fair,true,false,,2021-03-04T05:06:07.000Z,,"VIP, Press",',
    "g2,bob@ghost.example,Bob Roe,,false,false,,2022-01-02T00:00:00.000Z,,,",
    "g3,cara@ghost.example,Cara Diaz,,true,false,cus_cara,2020-05-06T07:08:09.000Z,,Founding,Gold",
    "g4,dan@ghost.example,Dan Wu,,false,true,,2023-07-08T00:00:00.000Z,,Staff friend,",
    "g5,gone@ghost.example,Gone Member,,true,false,,2020-01-01T00:00:00.000Z,2024-01-01T00:00:00.000Z,,",
    "g6,ANN@ghost.example,Ann Again,,true,false,,2021-03-04T05:06:07.000Z,,,",
    "g7,not-an-email,Nobody,,true,false,,2021-03-04T05:06:07.000Z,,,",
]


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("import_members", *args, "--no-progress", stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    """Everything an import writes, to show a run changed nothing."""
    return {
        "users": sorted(User.objects.values_list("email", "username", "first_name", "last_name", "password",
                                                 "date_joined")),
        "addresses": sorted(EmailAddress.objects.values_list("email", "verified", "primary")),
        "preferences": sorted(Preference.objects.values_list("user__email", "digest", "breaking")),
        "profiles": sorted(MemberProfile.objects.values_list("user__email", "labels", "note", "source", "source_id")),
        "comps": sorted(ComplimentaryAccess.objects.values_list("user__email", "until", "note")),
        "customers": sorted(StripeCustomer.objects.values_list("user__email", "customer_id")),
    }  # fmt: skip


def ghost_csv(tmp_path: Path, rows: list[str] = GHOST_ROWS) -> Path:
    return write(tmp_path, "ghost.csv", "\n".join([GHOST_HEADER, *rows]) + "\n")


def test_a_dry_run_writes_nothing_and_reports_what_it_would_do(tmp_path) -> None:
    path = ghost_csv(tmp_path)
    before = snapshot()
    out = run("--from", "ghost", str(path), "--dry-run")
    assert snapshot() == before
    assert "would create ann@ghost.example: new account, address verified, digest, labels 'VIP, Press'" in out
    assert "would create cara@ghost.example" in out and "Stripe customer cus_cara" in out
    assert "would create dan@ghost.example" in out and "complimentary until 2100-01-01" in out
    assert "skipped gone@ghost.example: deleted on Ghost" in out
    assert "skipped ann@ghost.example: duplicate email" in out
    assert "skipped not-an-email: invalid email 'not-an-email'" in out
    assert (
        "DRY RUN, nothing written. 7 members read: 4 would be created, 0 would be updated, 0 unchanged, "
        "3 skipped (1 duplicate emails, 1 invalid emails, 1 other)" in out
    )


def test_ghost_members_become_readers_as_ghost_had_them(tmp_path) -> None:
    out = run("--from", "ghost", str(ghost_csv(tmp_path)))
    assert "4 members read" not in out and "4 created" in out
    ann = User.objects.get(email="ann@ghost.example")
    assert ann.get_full_name() == "Ann Lee" and ann.date_joined == datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert not ann.has_usable_password()
    # The username sign-up would have given: from the address.
    assert ann.username == "ann"
    assert EmailAddress.objects.get(user=ann).verified  # Ghost mails her: the address reaches her
    assert Preference.objects.get(user=ann).digest is True
    assert ann.member_profile.label_list() == ["VIP", "Press"] and ann.member_profile.note == "met at the fair"
    assert ann.member_profile.source == "ghost" and ann.member_profile.source_id == "g1"

    bob = User.objects.get(email="bob@ghost.example")
    assert not EmailAddress.objects.get(user=bob).verified  # neither mailed nor paying: not verified
    assert Preference.objects.get(user=bob).digest is False  # never invented

    cara = User.objects.get(email="cara@ghost.example")
    assert EmailAddress.objects.get(user=cara).verified  # pays
    assert cara.stripe_customer.customer_id == "cus_cara"

    dan = User.objects.get(email="dan@ghost.example")
    assert ComplimentaryAccess.objects.get(user=dan).until == COMP_NO_END
    assert not User.objects.filter(email__in=["gone@ghost.example", "not-an-email"]).exists()


def test_a_second_run_changes_nothing(tmp_path) -> None:
    path = ghost_csv(tmp_path)
    run("--from", "ghost", str(path))
    after_first = snapshot()
    out = run("--from", "ghost", str(path))
    assert snapshot() == after_first
    assert "0 created, 0 updated, 4 unchanged" in out


def test_an_existing_account_is_matched_and_only_its_empty_parts_filled(tmp_path) -> None:
    reader = make_user("Ann@Ghost.example", first_name="Annie", last_name="L.")
    Preference.objects.create(user=reader, digest=False)  # her own choice stands
    out = run("--from", "ghost", str(ghost_csv(tmp_path, GHOST_ROWS[:1])))
    assert User.objects.filter(email__iexact="ann@ghost.example").count() == 1
    reader.refresh_from_db()
    assert reader.get_full_name() == "Annie L." and reader.has_usable_password()
    assert Preference.objects.get(user=reader).digest is False
    assert reader.member_profile.labels == "VIP, Press"
    assert "0 created, 1 updated" in out


def test_odd_encodings_blank_lines_duplicates_and_invalid_emails(tmp_path) -> None:
    body = ("email,name,newsletter\r\n\r\nJOSE@csv.example,José Núñez,yes\r\n,,\r\njose@csv.example,Other,no\r\n"
            "broken@,Broken,yes\r\nzoe@csv.example,Zoë,no\r\n\r\n")  # fmt: skip
    for encoding, name in [("utf-8-sig", "bom.csv"), ("utf-16", "utf16.csv"), ("cp1252", "excel.csv")]:
        for user in User.objects.all():
            user.delete()
        out = run("--from", "csv", str(write(tmp_path, name, body, encoding)))
        assert "2 created" in out and "1 duplicate emails, 1 invalid emails" in out, (encoding, out)
        assert "line 5: skipped jose@csv.example: duplicate email" in out
        assert User.objects.get(email="jose@csv.example").get_full_name() == "José Núñez"
        assert User.objects.get(email="zoe@csv.example").first_name == "Zoë"
        assert Preference.objects.get(user__email="jose@csv.example").digest is True
        assert ("read as Windows-1252" in out) == (encoding == "cp1252")


def test_a_file_without_the_newsletter_column_opts_nobody_in(tmp_path) -> None:
    out = run("--from", "csv", str(write(tmp_path, "plain.csv", "email,name\nann@csv.example,Ann\n")))
    assert "no 'newsletter' column: nobody is opted in" in out
    assert Preference.objects.get(user__email="ann@csv.example").digest is False
    assert not EmailAddress.objects.get(email="ann@csv.example").verified


def test_substack_subscribers_with_comps_and_disabled_emails(tmp_path) -> None:
    text = (
        "email,active_subscription,expiry,plan,email_disabled,created_at,stripe_customer_id\n"
        "payer@sub.example,true,2027-01-01,yearly,false,2022-02-02T10:00:00.000Z,cus_payer\n"
        "comp@sub.example,false,2027-06-30,comp,false,2022-02-02T10:00:00.000Z,\n"
        "quiet@sub.example,false,,,true,2022-02-02T10:00:00.000Z,\n"
    )
    run("--from", "substack", str(write(tmp_path, "substack.csv", text)))
    assert EmailAddress.objects.get(email="payer@sub.example").verified
    assert StripeCustomer.objects.get(user__email="payer@sub.example").customer_id == "cus_payer"
    comp = ComplimentaryAccess.objects.get(user__email="comp@sub.example")
    assert comp.until.date().isoformat() == "2027-06-30"
    assert Preference.objects.get(user__email="comp@sub.example").digest is True
    assert Preference.objects.get(user__email="quiet@sub.example").digest is False
    assert not EmailAddress.objects.get(email="quiet@sub.example").verified


def test_a_stripe_customer_of_another_reader_is_reported_not_moved(tmp_path) -> None:
    other = make_user("other@ghost.example")
    StripeCustomer.objects.create(user=other, customer_id="cus_cara")
    out = run("--from", "ghost", str(ghost_csv(tmp_path, GHOST_ROWS[2:3])))
    assert "Stripe customer cus_cara belongs to another reader" in out
    assert StripeCustomer.objects.get(customer_id="cus_cara").user == other


def test_an_imported_reader_sets_a_password_through_forgot_password_and_logs_in(tmp_path) -> None:
    run("--from", "ghost", str(ghost_csv(tmp_path, GHOST_ROWS[:1])))
    client = Client()
    login_page = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/password/reset/"' in login_page and "Forgot your password" in login_page

    assert client.post("/accounts/password/reset/", {"email": "ann@ghost.example"}).status_code == 302
    link = re.search(r"https?://testserver(/accounts/password/reset/key/[^\s/]+/)", mail.outbox[0].body).group(1)
    form_url = client.get(link)["Location"]
    new = "a-brand-new-passphrase-31"
    assert client.post(form_url, {"password1": new, "password2": new}).status_code == 302
    assert User.objects.get(email="ann@ghost.example").has_usable_password()

    response = client.post("/accounts/login/", {"login": "ann@ghost.example", "password": new})
    assert response.status_code == 302
    assert client.session.get("_auth_user_id") == str(User.objects.get(email="ann@ghost.example").pk)


def test_the_export_holds_everything_and_imports_again(tmp_path) -> None:
    run("--from", "ghost", str(ghost_csv(tmp_path)))
    make_user("staff@ghost.example", is_staff=True)  # not a member
    exported = tmp_path / "export.csv"
    call_command("export_members", "--output", str(exported), stderr=io.StringIO())
    rows = list(csv.DictReader(exported.open(encoding="utf-8")))
    by_email = {r["email"]: r for r in rows}
    assert set(by_email) == {"ann@ghost.example", "bob@ghost.example", "cara@ghost.example", "dan@ghost.example"}
    ann = by_email["ann@ghost.example"]
    assert (ann["name"], ann["verified"], ann["newsletter"], ann["labels"]) == ("Ann Lee", "yes", "yes", "VIP, Press")
    assert by_email["cara@ghost.example"]["stripe_customer_id"] == "cus_cara"
    assert by_email["dan@ghost.example"]["comp_until"].startswith("2100-01-01")

    before = snapshot()
    for user in User.objects.filter(is_staff=False):
        user.delete()
    run("--from", "csv", str(exported))
    after = snapshot()
    # Everything comes back but where an account came from (and its id there).
    assert {k: v for k, v in after.items() if k not in ("users", "profiles", "comps")} == {
        k: v for k, v in before.items() if k not in ("users", "profiles", "comps")
    }
    strip = [(u[0], u[2], u[3], u[5]) for u in before["users"] if u[0] != "staff@ghost.example"]
    assert [(u[0], u[2], u[3], u[5]) for u in after["users"] if u[0] != "staff@ghost.example"] == strip
    assert [(p[0], p[1], p[2]) for p in after["profiles"]] == [(p[0], p[1], p[2]) for p in before["profiles"]]
    assert [c[:2] for c in after["comps"]] == [c[:2] for c in before["comps"]]


def test_the_admin_downloads_the_same_export(client, tmp_path) -> None:
    run("--from", "ghost", str(ghost_csv(tmp_path)))
    admin = make_user("boss@ghost.example", is_staff=True, is_superuser=True)
    client.force_login(admin)
    page = client.get("/admin/subscriptions/memberprofile/").content.decode()
    assert "Export members (CSV)" in page and "VIP, Press" in page
    response = client.get("/admin/subscriptions/memberprofile/export/")
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    out = io.StringIO()
    call_command("export_members", stdout=out)
    assert body.replace("\r\n", "\n") == out.getvalue().replace("\r\n", "\n")


def test_editors_cannot_download_the_members(client, editor) -> None:
    client.force_login(editor)
    assert client.get("/admin/subscriptions/memberprofile/export/").status_code == 403
