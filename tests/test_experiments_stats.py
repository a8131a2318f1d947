"""The experiments' verdict stays honest when staff look every day (subscriptions/experiments.py).

Many simulated experiments, seeded and fast (no database): with no true difference the
verdict names a winner at some daily look in no more than the stated share of runs
(alpha); with a real difference it names the right one; and the same simulation shows a
naive daily-peeked z-test crying wolf far more often, so it is able to tell the two apart.
"""

from __future__ import annotations

import math
import random

from subscriptions import experiments


def binomial(rng: random.Random, n: int, p: float) -> int:
    """Successes in n trials of chance p, by geometric gaps between them: O(successes)."""
    if p <= 0:
        return 0
    count, position, log_q = 0, 0, math.log(1 - p)
    while True:
        position += int(math.log(1 - rng.random()) / log_q) + 1
        if position > n:
            return count
        count += 1


def run(rng: random.Random, rates: list[float], days: int, per_day: int, judge) -> str | None:
    """One experiment looked at every day; the first winner any look names (None: none)."""
    labels = "ABCD"[: len(rates)]
    readers = [0] * len(rates)
    successes = [0] * len(rates)
    for _ in range(days):
        for i, rate in enumerate(rates):
            n = binomial(rng, 2 * per_day, 0.5)  # readers split at random, as assignment does
            readers[i] += n
            successes[i] += binomial(rng, n, rate)
        winner = judge(list(zip(labels, readers, successes, strict=True)))
        if winner is not None:
            return winner
    return None


def msprt(arms) -> str | None:
    return experiments.verdict(arms)[1]


def naive_z_test(arms) -> str | None:
    """A fixed-horizon two-sided z-test at 5%, misused by looking every day."""
    (_, na, sa), (_, nb, sb) = arms
    if na < experiments.MIN_READERS or nb < experiments.MIN_READERS:
        return None
    p = (sa + sb) / (na + nb)
    se = math.sqrt(p * (1 - p) * (1 / na + 1 / nb)) or 1
    z = (sb / nb - sa / na) / se
    return ("B" if z > 0 else "A") if abs(z) > 1.96 else None


RUNS = 400
DAYS = 30
PER_DAY = 150  # readers a day per arm
# The binomial spread of a false-winner rate of exactly alpha over RUNS runs: 1.1 points.
TOLERANCE = 2 * math.sqrt(experiments.ALPHA * (1 - experiments.ALPHA) / RUNS)


def test_with_no_difference_daily_looks_name_a_winner_no_more_often_than_alpha() -> None:
    rng = random.Random(30)
    false_winners = sum(run(rng, [0.05, 0.05], DAYS, PER_DAY, msprt) is not None for _ in range(RUNS))
    assert false_winners / RUNS <= experiments.ALPHA + TOLERANCE


def test_with_four_equal_arms_the_whole_experiment_keeps_alpha() -> None:
    rng = random.Random(31)
    false_winners = sum(run(rng, [0.04] * 4, DAYS, PER_DAY, msprt) is not None for _ in range(RUNS // 2))
    assert false_winners / (RUNS // 2) <= experiments.ALPHA + 2 * TOLERANCE


def test_the_simulation_catches_a_test_that_peeks_dishonestly() -> None:
    rng = random.Random(32)
    false_winners = sum(run(rng, [0.05, 0.05], DAYS, PER_DAY, naive_z_test) is not None for _ in range(RUNS))
    assert false_winners / RUNS > 2 * experiments.ALPHA  # a daily-peeked z-test is wrong far more often


def test_a_real_difference_is_found_and_the_right_arm_named() -> None:
    rng = random.Random(33)
    found = [run(rng, [0.05, 0.08], DAYS, PER_DAY, msprt) for _ in range(RUNS // 4)]
    assert found.count("B") / len(found) >= 0.8
    assert "A" not in found


def test_a_worse_arm_is_never_called_better() -> None:
    rng = random.Random(34)
    found = [run(rng, [0.08, 0.05, 0.08], DAYS, PER_DAY, msprt) for _ in range(RUNS // 4)]
    assert "B" not in found


def test_the_sentences() -> None:
    assert experiments.verdict([("A", 50, 3), ("B", 60, 9)]) == (
        "Not enough readers yet: keep the experiment running.",
        None,
    )
    sentence, winner = experiments.verdict([("A", 20_000, 1_000), ("B", 20_000, 1_400)])
    assert winner == "B" and sentence.startswith("B is better than A with 95% confidence")
    sentence, winner = experiments.verdict([("A", 20_000, 1_000), ("B", 20_000, 1_010)])
    assert winner is None and sentence.startswith("No difference larger than ")
    assert "points between A and the other arms so far." in sentence
    # The bound shrinks as readers come: more readers, a smaller difference ruled out.
    wide = experiments.verdict([("A", 2_000, 100), ("B", 2_000, 101)])[0]
    narrow = experiments.verdict([("A", 200_000, 10_000), ("B", 200_000, 10_100)])[0]
    assert _bound(narrow) < _bound(wide)


def _bound(sentence: str) -> float:
    return float(sentence.removeprefix("No difference larger than ").split(" ")[0])
