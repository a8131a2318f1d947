"""Production refuses to start pointed at the local Stripe of ./scripts/dev, or with test-mode keys:
`manage.py check --deploy` (scripts/serve-prod runs it) fails with our own error ids."""

from __future__ import annotations

import pytest

from newsroom import dev_stripe
from tests.test_production import _check_deploy

LIVE = {"STRIPE_SECRET_KEY": "sk_live_" + "a" * 24, "STRIPE_PUBLISHABLE_KEY": "pk_live_" + "b" * 24}


@pytest.mark.parametrize(
    ("stripe", "refused"),
    [
        (dev_stripe.environment(), {"newsroom.E001", "newsroom.E002"}),  # exactly what scripts/dev exports
        ({**LIVE, "STRIPE_API_BASE": "http://127.0.0.1:12111"}, {"newsroom.E001"}),
        ({"STRIPE_SECRET_KEY": "sk_test_" + "c" * 24, "STRIPE_PUBLISHABLE_KEY": LIVE["STRIPE_PUBLISHABLE_KEY"]},
         {"newsroom.E002"}),
        ({**LIVE, "STRIPE_API_BASE": "https://api.stripe.com"}, set()),
        (LIVE, set()),
        ({}, set()),  # no keys: the site runs without subscriptions, and says so
    ],
)
def test_production_refuses_the_local_stripe_and_test_keys(stripe: dict[str, str], refused: set[str]) -> None:
    result = _check_deploy("https://news.example.org", **stripe)
    found = {code for code in ("newsroom.E001", "newsroom.E002") if code in result.stderr}
    assert found == refused, result.stderr
    assert (result.returncode != 0) == bool(refused), result.stderr
