"""itdeploy_lite.stats: percentile bootstrap intervals (issue 13)."""

import math

import pytest

from itdeploy_lite.stats import bootstrap_interval, difference_interval, outcomes_by_size


def test_bootstrap_interval_covers_the_mean_with_the_binomial_width():
    outcomes = [1] * 33 + [0] * 117  # 0.22 of 150 tasks
    low, high = bootstrap_interval(outcomes, resamples=4000, seed=1)
    half = 1.96 * math.sqrt(0.22 * 0.78 / 150)  # normal approximation: +-0.066
    assert low < 0.22 < high
    assert high - low == pytest.approx(2 * half, rel=0.15)
    assert bootstrap_interval([1, 1, 1]) == (1.0, 1.0)
    assert bootstrap_interval(outcomes, seed=1) == (low, high)  # seeded


def test_difference_interval_separates_a_real_gain_from_noise():
    before, after = [1] * 33 + [0] * 117, [1] * 64 + [0] * 86  # .22 -> .43
    low, high = difference_interval(before, after)
    assert 0 < low < 0.21 < high
    low, high = difference_interval(before, [1] * 35 + [0] * 115)  # .22 -> .23: within noise
    assert low < 0 < high


def test_outcomes_by_size_and_errors():
    assert outcomes_by_size({"b5": 0.76, "b9": 0.04}, 25) == [1] * 19 + [0] * 6 + [1] + [0] * 24
    with pytest.raises(ValueError):
        outcomes_by_size({"b5": 0.5}, 25)  # 12.5 tasks
    with pytest.raises(ValueError):
        bootstrap_interval([])
    with pytest.raises(ValueError):
        difference_interval([1], [], resamples=10)
