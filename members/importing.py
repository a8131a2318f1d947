"""Importing a newsroom's members (`manage.py import_members`).

Each member is planned against what the database already holds, then written in
its own transaction: a bad row, or one that loses a race, costs that row only.
What the database holds is read a batch of rows at a time (a handful of queries
per BATCH rows, not per row), and the file is streamed, so memory stays flat in
the size of the import; the one thing kept for the whole file is a digest of
each email seen, to report duplicates (first wins).

A new account gets the username sign-up would give it (allauth's, from the
email; _username_for), no usable password (the reader sets one
through "Forgot your password?", or logs in by emailed code), its address
verified only where the source says so, and its email choices as the source
had them (the digest where they subscribed to emails, else no; breaking news
only where a generic CSV says so). An account that already has the address is
matched, never duplicated, and only what is empty is filled in: a reader's own
choices, name and verification are theirs. Safe to run twice: the second run
finds everything in place and changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from allauth.account.models import EmailAddress
from allauth.utils import _generate_unique_username_base, generate_username_candidates
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.db.models import Max, Q
from django.db.models.functions import Lower
from django.utils import timezone

from newsletter.models import Preference
from subscriptions.models import ComplimentaryAccess, MemberProfile, StripeCustomer

from .sources import Member, Skipped

BATCH = 500


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    duplicates: int = 0
    invalid: int = 0
    failed: int = 0
    problems: int = 0

    def summary(self, *, dry_run: bool) -> str:
        would = "would be " if dry_run else ""
        return (
            f"{self.rows} members read: {self.created} {would}created, {self.updated} {would}updated, "
            f"{self.unchanged} unchanged, {self.skipped} skipped ({self.duplicates} duplicate emails, "
            f"{self.invalid} invalid emails, {self.skipped - self.duplicates - self.invalid} other), "
            f"{self.failed} failed; {self.problems} problem(s) reported"
        )


@dataclass
class Known:
    """What the database holds about one batch's members."""

    users: dict[str, Any] = field(default_factory=dict)  # lower-cased email -> user
    addresses: dict[int, dict[str, EmailAddress]] = field(default_factory=dict)
    preferences: set[int] = field(default_factory=set)
    profiles: dict[int, MemberProfile] = field(default_factory=dict)
    comp_until: dict[int, Any] = field(default_factory=dict)
    customer_of_user: dict[int, str] = field(default_factory=dict)
    user_of_customer: dict[str, int] = field(default_factory=dict)


def load_known(batch: list[Member]) -> Known:
    known = Known()
    emails = [m.email for m in batch]
    user_model = get_user_model()
    for user in user_model.objects.annotate(lower_email=Lower("email")).filter(lower_email__in=emails):
        known.users.setdefault(user.lower_email, user)
    if rest := set(emails) - known.users.keys():
        addresses = EmailAddress.objects.annotate(lower_email=Lower("email")).filter(lower_email__in=rest)
        for address in addresses.select_related("user"):
            known.users.setdefault(address.lower_email, address.user)
    ids = [user.pk for user in known.users.values()]
    for address in EmailAddress.objects.filter(user_id__in=ids):
        known.addresses.setdefault(address.user_id, {})[address.email.lower()] = address
    known.preferences = set(Preference.objects.filter(user_id__in=ids).values_list("user_id", flat=True))
    known.profiles = {p.user_id: p for p in MemberProfile.objects.filter(user_id__in=ids)}
    known.comp_until = dict(
        ComplimentaryAccess.objects.filter(user_id__in=ids)
        .values("user_id")
        .annotate(m=Max("until"))
        .values_list("user_id", "m")
    )
    customer_ids = [m.stripe_customer_id for m in batch if m.stripe_customer_id]
    for user_id, customer_id in StripeCustomer.objects.filter(
        Q(user_id__in=ids) | Q(customer_id__in=customer_ids)
    ).values_list("user_id", "customer_id"):
        known.customer_of_user[user_id] = customer_id
        known.user_of_customer[customer_id] = user_id
    return known


def _username_for(email: str) -> str:
    """The username sign-up gives this address (allauth's base name from the email, then
    its candidates with random suffixes), the first one free. allauth's own check ORs a
    case-insensitive match per candidate, which PostgreSQL answers by reading every
    account: a 50,000-member import would read 50,000 x 25,000 rows. Its names are
    lower-case, so an exact match on the username's unique index finds the same ones."""
    base = _generate_unique_username_base([email, "user"])
    candidates = generate_username_candidates(base)
    taken = set(get_user_model().objects.filter(username__in=candidates).values_list("username", flat=True))
    return next(c for c in candidates if c not in taken)


def _names(name: str) -> tuple[str, str]:
    first, _, last = name.partition(" ")
    return first[:150], last[:150]


@dataclass
class MemberChanges:
    """What importing one member does: descriptions for the report, and the writes."""

    member: Member
    user: Any  # None: a new account
    changes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    writes: list[Callable[[Any], None]] = field(default_factory=list)

    def add(self, change: str, write: Callable[[Any], None]) -> None:
        self.changes.append(change)
        self.writes.append(write)


def plan_member(m: Member, known: Known, *, source: str) -> MemberChanges:
    user = known.users.get(m.email)
    plan = MemberChanges(m, user, problems=list(m.problems))
    user_id = user.pk if user is not None else None
    if user is None:
        plan.changes.append("new account")
    elif m.name and not (user.first_name or user.last_name):

        def name(u: Any) -> None:
            u.first_name, u.last_name = _names(m.name)
            u.save(update_fields=["first_name", "last_name"])

        plan.add(f"name {m.name!r}", name)

    addresses = known.addresses.get(user_id, {}) if user_id else {}
    if m.email not in addresses:
        verified = "verified" if m.verified else "unverified"

        def address(u: Any) -> None:
            primary = not any(a.primary for a in addresses.values())
            EmailAddress.objects.create(user=u, email=m.email, verified=m.verified, primary=primary)

        plan.add(f"address {verified}", address)

    if user_id not in known.preferences:
        choice = "digest" if m.newsletter else "no digest"
        plan.add(
            choice + (", breaking news" if m.breaking else ""),
            lambda u: Preference.objects.create(user=u, digest=m.newsletter, breaking=m.breaking),
        )

    profile = known.profiles.get(user_id) if user_id else None
    if profile is None:
        if user is None or m.labels or m.note or m.source_id:

            def new_profile(u: Any) -> None:
                MemberProfile.objects.create(user=u, labels=m.labels, note=m.note, source=source, source_id=m.source_id)

            plan.add(f"labels {m.labels!r}" if m.labels else "member profile", new_profile)
    else:
        fill = {f: getattr(m, f) for f in ("labels", "note", "source_id") if getattr(m, f) and not getattr(profile, f)}
        if fill:

            def fill_profile(u: Any) -> None:
                MemberProfile.objects.filter(pk=profile.pk).update(**fill)

            plan.add(", ".join(f"{k} {v!r}" for k, v in fill.items()), fill_profile)

    if m.comp_until is not None:
        has = known.comp_until.get(user_id) if user_id else None
        if has is None or has < m.comp_until:
            plan.add(
                f"complimentary until {m.comp_until:%Y-%m-%d}",
                lambda u: ComplimentaryAccess.objects.create(
                    user=u, until=m.comp_until, note=f"imported from {source}"
                ),
            )

    customer = m.stripe_customer_id
    if customer:
        owner = known.user_of_customer.get(customer)
        mine = known.customer_of_user.get(user_id) if user_id else None
        if owner is not None and owner != user_id:
            plan.problems.append(f"Stripe customer {customer} belongs to another reader (user {owner}): not linked")
        elif owner is None and mine:
            plan.problems.append(f"already linked to Stripe customer {mine}; {customer} not linked")
        elif owner is None:
            plan.add(
                f"Stripe customer {customer}", lambda u: StripeCustomer.objects.create(user=u, customer_id=customer)
            )
    return plan


def apply(plan: MemberChanges, known: Known) -> Any:
    """Make the plan's changes in one transaction; returns the (new) user."""
    m = plan.member
    with transaction.atomic():
        user = plan.user
        if user is None:
            user = get_user_model()(email=m.email, date_joined=m.created_at or timezone.now())
            user.username = _username_for(m.email)
            user.first_name, user.last_name = _names(m.name)
            user.set_unusable_password()
            user.save()
        for write in plan.writes:
            write(user)
    # Later rows of this batch see what this one did.
    known.users[m.email] = user
    if m.stripe_customer_id and any(c.startswith("Stripe customer") for c in plan.changes):
        known.user_of_customer[m.stripe_customer_id] = user.pk
        known.customer_of_user[user.pk] = m.stripe_customer_id
    return user


def _batches(items: Iterable[Member | Skipped], size: int) -> Iterator[list[Member | Skipped]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def import_members(
    rows: Iterable[Member | Skipped],
    *,
    source: str,
    dry_run: bool,
    say: Callable[[str], None],
    detail: bool,
    progress: Callable[[int], None] = lambda n: None,
) -> ImportReport:
    """Import the rows; `say` gets every problem and skip (and, with `detail`, every
    member's changes); `progress` the running count after each batch."""
    report = ImportReport()
    if not dry_run and connection.vendor == "postgresql":
        # One transaction per member means one commit per member, and by default every
        # commit waits for its WAL flush to disk (the import's whole cost, ~10 ms each).
        # For this session only, don't wait: a crash may lose the last moments' members
        # (never half of one), and the import is made to be run again.
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO OFF")
    seen: set[int] = set()  # 8-byte digests of the emails met so far: duplicates, first wins
    for batch in _batches(rows, BATCH):
        members: list[Member] = []
        for row in batch:
            report.rows += 1
            if isinstance(row, Skipped):
                report.skipped += 1
                report.invalid += row.reason.startswith("invalid email")
                say(f"line {row.line}: skipped {row.email}: {row.reason}")
                continue
            digest = int.from_bytes(hashlib.blake2b(row.email.encode(), digest_size=8).digest(), "big")
            if digest in seen:
                report.skipped += 1
                report.duplicates += 1
                say(f"line {row.line}: skipped {row.email}: duplicate email (an earlier line has it)")
                continue
            seen.add(digest)
            members.append(row)
        known = load_known(members) if members else Known()
        for m in members:
            plan = plan_member(m, known, source=source)
            for problem in plan.problems:
                report.problems += 1
                say(f"line {m.line}: {m.email}: {problem}")
            if not plan.changes:
                report.unchanged += 1
                continue
            verb = "create" if plan.user is None else "update"
            if not dry_run:
                try:
                    apply(plan, known)
                except DatabaseError as exc:  # e.g. the address was taken meanwhile: this row only
                    report.failed += 1
                    say(f"line {m.line}: {m.email}: not imported: {exc}".splitlines()[0])
                    continue
            if verb == "create":
                report.created += 1
            else:
                report.updated += 1
            if detail or dry_run:
                say(f"line {m.line}: {'would ' if dry_run else ''}{verb} {m.email}: {', '.join(plan.changes)}")
        progress(report.rows)
    return report
