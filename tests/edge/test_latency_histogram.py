"""Latency percentiles from the histogram (edge/latency_histogram.py) against the exact ones
(percentile_cont's definition, computed here over the latencies themselves): within one
bucket's width, for spread, clustered, tiny and single-valued samples."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from edge import latency_histogram
from tests.edge.rollup_data import within_a_bucket

FRACTIONS = (0.0, 0.05, 0.5, 0.9, 0.95, 0.99, 1.0)


def _exact(latencies: list[int], fraction: float) -> float:
    ordered = sorted(latencies)
    rank = fraction * (len(ordered) - 1)
    below, above = math.floor(rank), math.ceil(rank)
    return ordered[below] + (rank - below) * (ordered[above] - ordered[below])


def _histogram(latencies: list[int]) -> Counter[int]:
    return Counter(latency_histogram.bucket_of(latency) for latency in latencies)


_random = random.Random(14)
SAMPLES = {
    "spread": [_random.randrange(0, 5000) for _ in range(2000)],
    "long tail": [int(_random.lognormvariate(5, 1)) for _ in range(2000)],
    "clustered": [_random.choice((40, 41, 900, 30000)) for _ in range(500)],
    "tiny": [100, 300, 250, 40],
    "zeros": [0, 0, 1, 2],
    "one": [9999],
}


@pytest.mark.parametrize("name", SAMPLES)
def test_a_percentile_is_within_a_bucket_of_the_exact_one(name: str) -> None:
    latencies = SAMPLES[name]
    histogram = _histogram(latencies)
    for fraction in FRACTIONS:
        exact = _exact(latencies, fraction)
        assert latency_histogram.percentile(histogram, fraction) == within_a_bucket(exact), fraction


def test_every_latency_is_inside_its_bucket() -> None:
    for latency in range(0, 100_000, 7):
        low, high = latency_histogram.bounds(latency_histogram.bucket_of(latency))
        assert low <= latency < high


def test_no_latencies_no_percentile() -> None:
    assert latency_histogram.percentile(Counter(), 0.5) is None
