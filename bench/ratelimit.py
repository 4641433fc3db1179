"""(l) What the per-key rate limit costs a request. GET /health over Envoy REST, in turns on
one mesh: with an API key (Envoy's rate limit filter finds that key's token bucket and takes
a token) and without one (no descriptor, so the filter passes the request untouched). The
edge does the same work for both: health reads no key. Their p50 difference is the limit's
cost."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from bench.load import Latency, open_loops_in_turns, warm_up

RATE = 20.0
BLOCKS = 5
_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class RateLimitCost:
    keyed: Latency
    keyless: Latency

    @property
    def p50_gap_ms(self) -> float:
        return self.keyed.p50_ms - self.keyless.p50_ms


async def measure_rate_limit_cost(api_url: str, api_key: str, samples: int) -> RateLimitCost:
    async with httpx.AsyncClient(base_url=api_url, timeout=_TIMEOUT_S, trust_env=False) as http:
        key = {"Authorization": f"Bearer {api_key}"}

        async def keyed() -> None:
            _healthy(await http.get("/health", headers=key))

        async def keyless() -> None:
            _healthy(await http.get("/health"))

        for operation in (keyed, keyless):
            await warm_up(operation, 1, 1.0, _TIMEOUT_S)
        with_key, without_key = await open_loops_in_turns(
            [(keyed, _TIMEOUT_S), (keyless, _TIMEOUT_S)], RATE, samples, BLOCKS
        )
    return RateLimitCost(with_key, without_key)


def _healthy(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise RuntimeError(f"GET /health: HTTP {response.status_code} {response.text[:300]}")
