"""Payment latency percentiles from a histogram, so they can be added up over hours.

A latency of `ms` milliseconds falls in bucket floor(log_1.05(ms + 1)): bucket b holds
[1.05**b - 1, 1.05**(b + 1) - 1), a width of 5 % of its values (+1 ms, so that 0 has a bucket).
PostgreSQL computes the bucket (BUCKET_SQL) when it writes or reads a histogram; this module
turns the summed counts into percentiles as percentile_cont would over the orders themselves:
rank p * (n - 1), interpolated between the two orders around it. Each order's latency is
only known to within its bucket, so it is placed evenly inside it; the answer is thus within
one bucket width of the exact one: |estimate - exact| <= 0.05 * (exact + 1) ms."""

from __future__ import annotations

import math
from collections.abc import Mapping

RATIO = 1.05

# The bucket of orders.payment_latency_ms (the column's name is the caller's to qualify).
BUCKET_SQL = "floor(ln({latency} + 1) / ln(1.05))::int"


def bucket_of(latency_ms: float) -> int:
    return math.floor(math.log(latency_ms + 1) / math.log(RATIO))


def bounds(bucket: int) -> tuple[float, float]:
    return RATIO**bucket - 1, RATIO ** (bucket + 1) - 1


def percentile(counts: Mapping[int, int], fraction: float) -> float | None:
    """The continuous percentile (0 <= fraction <= 1) of the latencies counted per bucket;
    None when there are none."""
    total = sum(counts.values())
    if not total:
        return None
    rank = fraction * (total - 1)
    below = math.floor(rank)
    lower = _nth(counts, below)
    if rank == below:
        return lower
    return lower + (rank - below) * (_nth(counts, below + 1) - lower)


def _nth(counts: Mapping[int, int], index: int) -> float:
    """The index-th smallest latency (from 0), placed evenly inside its bucket."""
    seen = 0
    for bucket in sorted(counts):
        count = counts[bucket]
        if index < seen + count:
            low, high = bounds(bucket)
            return low + (index - seen + 0.5) / count * (high - low)
        seen += count
    raise IndexError(index)
