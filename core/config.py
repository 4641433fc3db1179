"""Settings read once at start-up from the environment, then passed down."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from core.webhooks.destinations import (
    AllowedDestination,
    Listener,
    parse_allowlist,
    parse_listeners,
)

DEFAULT_TASK_QUEUE = "payments"
PAGE_TOKEN_SECRET_VAR = "PAYLOOPS_PAGE_TOKEN_SECRET"
JWT_SIGNING_KEYS_VAR = "PAYLOOPS_JWT_SIGNING_KEYS"
TEMPORAL_CODEC_KEYS_VAR = "PAYLOOPS_TEMPORAL_CODEC_KEYS"

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """Everything a PayLoops process needs to know about where it runs."""

    database_url: str
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    # AES-GCM keys, `ID:KEY` each, that encrypt every Temporal payload (core.payload_codec):
    # the first encrypts, every one decrypts. No default, like the page-token secret: the
    # edge and the worker refuse to start without one.
    temporal_codec_keys: tuple[str, ...] = ()
    task_queue: str = DEFAULT_TASK_QUEUE
    # /health calls the worker missing when no poller has asked the task queue for work for
    # this long. An idle worker's long poll is renewed about once a minute (Temporal's long-poll
    # expiry), so the default leaves it half a minute more.
    worker_silence_seconds: float = 90.0
    edge_host: str = "127.0.0.1"
    edge_port: int = 50051
    # Signs list page tokens so a client cannot forge a cursor or swap filters between pages.
    # No default: a default would be public, and tokens signed with it forgeable. The edge
    # refuses to start without one (edge.page_tokens); `payloops dev` keeps one in its state dir.
    page_token_secret: str = ""
    # How long PayOrder waits for the payment to settle before answering PROCESSING.
    pay_wait_seconds: float = 10.0
    # How long an unanswered 3-D Secure challenge may stay open before the order fails.
    three_ds_timeout_seconds: float = 900.0
    # How often the workflow asks the processor about an open challenge.
    three_ds_poll_seconds: float = 1.0
    # How long a manual-capture authorization waits for its capture before it is voided.
    authorization_ttl_seconds: float = 7 * 24 * 3600.0
    # The processor a new merchant routes to.
    default_processor: str = "sandbox"
    # Fernet keys that encrypt processor credentials at rest; the first encrypts (core.secrets).
    secrets_keys: tuple[str, ...] = ()
    # The platform operator's keys for the admin API (merchants, processor registration): any
    # of them is accepted, so the key can be rotated (PAYLOOPS_ADMIN_API_KEYS, comma-separated,
    # and PAYLOOPS_ADMIN_API_KEY). None: the admin API is closed.
    admin_api_keys: tuple[str, ...] = ()
    # Ed25519 keys that sign and verify the dashboard's access tokens (core.signing_keys): the
    # first signs, every one verifies and is published in the JWKS, so a key can be rotated
    # without signing anyone out. None: sign-in is closed.
    jwt_signing_keys: tuple[str, ...] = ()
    # Sign-in throttling (edge.sign_in_throttle): at most this many failed sign-ins per e-mail,
    # and per client address, within the window; more are refused with 429 until the oldest
    # leaves the window.
    sign_in_failures_per_email: int = 5
    sign_in_failures_per_address: int = 20
    sign_in_window_seconds: float = 15 * 60.0
    # Merchant webhooks: the first retry of a failed delivery waits this long, and each next
    # one twice as long (capped at 6 h, for 3 days); tests shorten it.
    webhook_retry_first_seconds: float = 30.0
    # How long one POST to a merchant's endpoint may take before it counts as failed.
    webhook_timeout_seconds: float = 10.0
    # Non-public destinations test-mode webhook endpoints may use (a developer's own receiver):
    # PAYLOOPS_WEBHOOK_TEST_ALLOWLIST, syntax in core/webhooks/destinations.py. Empty: public
    # addresses only, as in live mode.
    webhook_test_allowlist: tuple[AllowedDestination, ...] = ()
    # The platform's listeners webhooks must never reach, besides those named above (edge,
    # Temporal, database) and the processors' targets: Envoy's listeners, the sandbox's pages…
    platform_listeners: tuple[Listener, ...] = ()
    # Where spans, metrics and log records go (core.telemetry): the standard
    # OTEL_TRACES_EXPORTER, OTEL_METRICS_EXPORTER and OTEL_LOGS_EXPORTER, "none" unless set.
    traces_exporter: str = "none"
    metrics_exporter: str = "none"
    logs_exporter: str = "none"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        url = env.get("PAYLOOPS_DATABASE_URL")
        if not url:
            raise SystemExit("PAYLOOPS_DATABASE_URL is not set (payloops dev sets it for you)")
        defaults = cls(database_url=url)
        return cls(
            database_url=url,
            temporal_address=env.get("PAYLOOPS_TEMPORAL_ADDRESS", defaults.temporal_address),
            temporal_namespace=env.get("PAYLOOPS_TEMPORAL_NAMESPACE", defaults.temporal_namespace),
            temporal_codec_keys=_comma_separated(env.get(TEMPORAL_CODEC_KEYS_VAR, "")),
            task_queue=env.get("PAYLOOPS_TASK_QUEUE", defaults.task_queue),
            worker_silence_seconds=float(
                env.get("PAYLOOPS_WORKER_SILENCE_SECONDS", defaults.worker_silence_seconds)
            ),
            edge_host=env.get("PAYLOOPS_EDGE_HOST", defaults.edge_host),
            edge_port=int(env.get("PAYLOOPS_EDGE_PORT", defaults.edge_port)),
            page_token_secret=env.get(PAGE_TOKEN_SECRET_VAR, defaults.page_token_secret),
            pay_wait_seconds=float(env.get("PAYLOOPS_PAY_WAIT_SECONDS", defaults.pay_wait_seconds)),
            three_ds_timeout_seconds=float(
                env.get("PAYLOOPS_THREE_DS_TIMEOUT_SECONDS", defaults.three_ds_timeout_seconds)
            ),
            three_ds_poll_seconds=float(
                env.get("PAYLOOPS_THREE_DS_POLL_SECONDS", defaults.three_ds_poll_seconds)
            ),
            authorization_ttl_seconds=float(
                env.get("PAYLOOPS_AUTHORIZATION_TTL_SECONDS", defaults.authorization_ttl_seconds)
            ),
            default_processor=env.get("PAYLOOPS_DEFAULT_PROCESSOR", defaults.default_processor),
            secrets_keys=tuple(
                key.strip()
                for key in env.get("PAYLOOPS_SECRETS_KEYS", "").split(",")
                if key.strip()
            ),
            admin_api_keys=_admin_api_keys(env),
            jwt_signing_keys=_comma_separated(env.get(JWT_SIGNING_KEYS_VAR, "")),
            sign_in_failures_per_email=int(
                env.get("PAYLOOPS_SIGN_IN_FAILURES_PER_EMAIL", defaults.sign_in_failures_per_email)
            ),
            sign_in_failures_per_address=int(
                env.get(
                    "PAYLOOPS_SIGN_IN_FAILURES_PER_ADDRESS", defaults.sign_in_failures_per_address
                )
            ),
            sign_in_window_seconds=float(
                env.get("PAYLOOPS_SIGN_IN_WINDOW_SECONDS", defaults.sign_in_window_seconds)
            ),
            webhook_retry_first_seconds=float(
                env.get(
                    "PAYLOOPS_WEBHOOK_RETRY_FIRST_SECONDS", defaults.webhook_retry_first_seconds
                )
            ),
            webhook_timeout_seconds=float(
                env.get("PAYLOOPS_WEBHOOK_TIMEOUT_SECONDS", defaults.webhook_timeout_seconds)
            ),
            webhook_test_allowlist=_parsed(env, "PAYLOOPS_WEBHOOK_TEST_ALLOWLIST", parse_allowlist),
            platform_listeners=_parsed(env, "PAYLOOPS_PLATFORM_LISTENERS", parse_listeners),
            traces_exporter=otel_exporter(env, "OTEL_TRACES_EXPORTER"),
            metrics_exporter=otel_exporter(env, "OTEL_METRICS_EXPORTER"),
            logs_exporter=otel_exporter(env, "OTEL_LOGS_EXPORTER"),
        )


def _parsed(
    env: Mapping[str, str], variable: str, parse: Callable[[str], tuple[T, ...]]
) -> tuple[T, ...]:
    try:
        return parse(env.get(variable, ""))
    except ValueError as error:
        raise SystemExit(f"{variable} is not valid: {error}") from None


def otel_exporter(env: Mapping[str, str], variable: str) -> str:
    """The exporter a standard OTEL_*_EXPORTER variable names, "none" when unset or when
    OTEL_SDK_DISABLED turns OpenTelemetry off."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return "none"
    return env.get(variable, "none").strip().lower() or "none"


def _comma_separated(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _admin_api_keys(env: Mapping[str, str]) -> tuple[str, ...]:
    """Every admin key configured, the rotating pair first, each once."""
    named = [
        *env.get("PAYLOOPS_ADMIN_API_KEYS", "").split(","),
        env.get("PAYLOOPS_ADMIN_API_KEY", ""),
    ]
    return tuple(dict.fromkeys(key.strip() for key in named if key.strip()))
