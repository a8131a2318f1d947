"""What the per-worker copy of the paywall terms buys (subscriptions/experiments.py, LOCAL_SECONDS).

    ./scripts/test bench/terms_cache.py -s -p no:randomly

Every article request asks `experiments.terms()`. Each worker keeps the terms it read for
LOCAL_SECONDS; with 0 it asks the shared cache for the terms' version token on every request
(one more Redis round trip), which is the simple design this layer has to beat. In one process,
alternating the two in rounds (so the machine's bursts hit both), an over-the-limit reader asks
for a kept paywall page — the path where one more round trip weighs most — with and without an
experiment running, and the median of time(without the copy) ÷ time(with it) is printed.
A layer that buys under 5% is a cost (the developers' guide): if this prints < 1.05, remove it.
"""

import statistics
import time

import pytest
from django.test import Client

from subscriptions import experiments
from tests.conftest import *  # noqa: F403 (the suite's fixtures: database, category, author)
from tests.test_experiments import _terms_read_afresh, start, store, stories  # noqa: F401

pytestmark = pytest.mark.django_db

ROUNDS, REQUESTS = 8, 300


@pytest.mark.parametrize("store", ["one Redis"], indirect=True)
@pytest.mark.parametrize("running", [False, True], ids=["no experiment", "experiment running"])
def test_what_the_workers_copy_of_the_terms_buys(stories, store, running, monkeypatch) -> None:  # noqa: F811
    if running:
        start()
    client = Client()
    for story in stories[:5]:  # past every arm's limit: each later request is a kept paywall page
        client.get(story.get_absolute_url())
    url = stories[5].get_absolute_url()
    client.get(url)
    ratios = []
    for round_ in range(ROUNDS):
        took = {}
        for local in (15, 0) if round_ % 2 else (0, 15):
            monkeypatch.setattr(experiments, "LOCAL_SECONDS", local)
            began = time.perf_counter()
            for _ in range(REQUESTS):
                assert client.get(url).status_code == 200
            took[local] = time.perf_counter() - began
        ratios.append(took[0] / took[15])
    print(f"\n{'experiment running' if running else 'no experiment'}: without ÷ with the copy, per round",
          [round(r, 2) for r in ratios], "median", round(statistics.median(ratios), 3))
