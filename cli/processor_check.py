"""`payloops processor-check TARGET`: the conformance kit a gateway adapter's author runs against
their Processor server (docs/processors.md).

It reads GetCapabilities, refuses to start without the credentials the server declares, runs the
contract's checks (cli/conformance/) with the server's own test tokens and fresh keys, and
prints one row per check. Exit status: 0 when every applicable check passed, 1 when one failed,
2 when the checks could not run (bad arguments, server unreachable, GetCapabilities unusable,
credentials missing).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from cli.conformance import suite
from cli.conformance.client import ProcessorClient, RpcFailure
from cli.conformance.session import Session, Settings
from cli.conformance.verdicts import CheckResult, Verdict
from core.processors.registry import deadline_problem, target_problem

PROG = "payloops processor-check"
# What PayLoops gives a newly registered processor (core.processors.registry.DEFAULT_DEADLINE_MS):
# checking with it proves the server answers in time in production too.
DEFAULT_DEADLINE_MS = 5000
_CREDENTIAL = re.compile(r"(?P<key>[A-Za-z0-9_.-]+)=(?P<value>.+)", re.DOTALL)


class CannotRun(Exception):
    """The checks cannot run at all: exit status 2."""


@dataclass(frozen=True)
class Options:
    target: str
    credentials: Mapping[str, str] = field(default_factory=dict)
    deadline_ms: int = DEFAULT_DEADLINE_MS
    only: tuple[str, ...] = ()
    # Connect with TLS, as PayLoops does for a processor registered with `tls` (the system's
    # roots, or these PEM CA certificates).
    tls: bool = False
    tls_ca_pem: bytes = b""


@dataclass(frozen=True)
class Report:
    target: str
    processor: str
    results: tuple[CheckResult, ...]

    def count(self, verdict: Verdict) -> int:
        return sum(1 for r in self.results if r.verdict is verdict)

    @property
    def passed(self) -> bool:
        return self.count(Verdict.FAIL) == 0

    def failed(self) -> list[str]:
        return [r.name for r in self.results if r.verdict is Verdict.FAIL]

    def as_json(self) -> dict[str, object]:
        return {
            "target": self.target,
            "processor": self.processor,
            "passed": self.passed,
            "summary": {v.value.lower(): self.count(v) for v in Verdict},
            "checks": [
                {"name": r.name, "result": r.verdict.value, "detail": r.detail}
                for r in self.results
            ],
        }


def parse_options(
    target: str,
    credentials: Sequence[str] = (),
    deadline_ms: str | None = None,
    only: Sequence[str] = (),
    tls: bool = False,
    tls_ca: str | None = None,
) -> Options:
    """The command's arguments, checked; CannotRun says what is wrong in one line."""
    problems = [target_problem(target)]
    ca_pem = b""
    if tls_ca is not None:
        try:
            ca_pem = Path(tls_ca).read_bytes()
        except OSError as error:
            problems.append(f"--tls-ca: cannot read {tls_ca}: {error.strerror or error}")
    values: dict[str, str] = {}
    for given in credentials:
        found = _CREDENTIAL.fullmatch(given)
        if found is None:
            # Never echo the argument: it may be a secret typed without its KEY=.
            problems.append("--credential takes KEY=VALUE, such as secret_key=sk_test_…")
        elif found["key"] in values:
            problems.append(f"--credential {found['key']} is given twice")
        else:
            values[found["key"]] = found["value"]
    deadline = DEFAULT_DEADLINE_MS
    if deadline_ms is not None:
        if re.fullmatch(r"[0-9]{1,9}", deadline_ms):
            deadline = int(deadline_ms)
            problems.append(deadline_problem(deadline))
        else:
            problems.append(
                f"--deadline-ms must be a whole number of milliseconds (got {deadline_ms!r})"
            )
    try:
        suite.select(only)
    except suite.UnknownCheck as error:
        problems.append(str(error))
    if any(problems):
        raise CannotRun("; ".join(p for p in problems if p))
    return Options(target, values, deadline, tuple(only), tls or tls_ca is not None, ca_pem)


@contextlib.contextmanager
def channel_to(options: Options) -> Iterator[grpc.Channel]:
    # A proxy from the environment must not be used for a server on this machine.
    host = options.target.rsplit(":", 1)[0].strip("[]")
    loopback = host == "localhost" or _is_loopback_ip(host)
    channel_options = [("grpc.enable_http_proxy", 0)] if loopback else []
    if options.tls:
        credentials = grpc.ssl_channel_credentials(root_certificates=options.tls_ca_pem or None)
        channel = grpc.secure_channel(options.target, credentials, options=channel_options)
    else:
        channel = grpc.insecure_channel(options.target, options=channel_options)
    with channel:
        yield channel


def _is_loopback_ip(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def open_session(client: ProcessorClient, options: Options, settings: Settings) -> Session:
    """Reads GetCapabilities and checks that every declared credential field was given."""
    capabilities = client.capabilities()
    if isinstance(capabilities, RpcFailure):
        if capabilities.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            raise CannotRun(f"cannot reach {options.target}: {capabilities.describe()}")
        raise CannotRun(
            f"GetCapabilities on {options.target} failed, so nothing can be "
            f"checked: {capabilities.describe()}"
        )
    missing = [f for f in capabilities.credential_fields if f and f not in options.credentials]
    if missing:
        raise CannotRun(
            f"{capabilities.name or options.target} needs credentials "
            f"{', '.join(missing)}: give each with --credential KEY=VALUE "
            "(test-mode values)"
        )
    return Session(client, capabilities, settings)


def check(
    options: Options,
    settings: Settings | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
    on_start: Callable[[Session], None] | None = None,
) -> Report:
    """Runs the selected checks against `options.target`; raises CannotRun."""
    settings = settings or Settings(deadline_s=options.deadline_ms / 1000)
    with channel_to(options) as channel:
        client = ProcessorClient(channel, options.credentials, settings.deadline_s)
        session = open_session(client, options, settings)
        if on_start is not None:
            on_start(session)
        results = suite.run(session, suite.select(options.only), on_result)
    return Report(options.target, session.capabilities.name, tuple(results))


# -- the command ---------------------------------------------------------------------------


class _Table:
    """Prints rows as checks finish: a run against a real gateway takes a while."""

    def __init__(self, names: Sequence[str]) -> None:
        self._width = max([len("CHECK"), *map(len, names)])

    def start(self, session: Session, options: Options) -> None:
        caps = session.capabilities
        print(
            f"{options.target}{' (TLS)' if options.tls else ''}: processor {caps.name!r}, "
            f"{len(caps.test_payment_methods)} test payment methods, deadline "
            f"{options.deadline_ms} ms, currency {session.currency}"
        )
        print(f"{'CHECK'.ljust(self._width)}  RESULT  DETAIL")

    def row(self, result: CheckResult) -> None:
        detail = " ".join(result.detail.split())
        print(f"{result.name.ljust(self._width)}  {result.verdict.value:<6}  {detail}", flush=True)

    @staticmethod
    def summary(report: Report) -> None:
        counts = ", ".join(
            f"{report.count(v)} {word}"
            for v, word in (
                (Verdict.PASS, "passed"),
                (Verdict.FAIL, "failed"),
                (Verdict.SKIP, "skipped"),
            )
        )
        print(f"{len(report.results)} checks: {counts}")
        if not report.passed:
            print(f"FAILED: {', '.join(report.failed())}")


def main(
    target: str,
    credentials: Sequence[str] = (),
    deadline_ms: str | None = None,
    as_json: bool = False,
    only: Sequence[str] = (),
    tls: bool = False,
    tls_ca: str | None = None,
) -> int:
    try:
        options = parse_options(target, credentials, deadline_ms, only, tls, tls_ca)
        if as_json:
            report = check(options)
            print(json.dumps(report.as_json(), indent=2))
        else:
            table = _Table([c.name for c in suite.select(options.only)])
            report = check(
                options, on_result=table.row, on_start=lambda session: table.start(session, options)
            )
            table.summary(report)
    except CannotRun as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    return 0 if report.passed else 1
