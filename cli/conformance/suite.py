"""The checks in the order they run, selection by name or area, and running them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from cli.conformance.checks import (
    Check,
    authorize,
    capabilities,
    capture,
    errors,
    lookup,
    refund,
    services,
    three_d_secure,
    void,
    webhooks,
)
from cli.conformance.session import Session
from cli.conformance.verdicts import CheckFailed, CheckResult, CheckSkipped, Verdict

CHECKS: tuple[Check, ...] = (
    *capabilities.CHECKS,
    *services.CHECKS,
    *authorize.CHECKS,
    *lookup.CHECKS,
    *capture.CHECKS,
    *void.CHECKS,
    *refund.CHECKS,
    *three_d_secure.CHECKS,
    *errors.CHECKS,
    *webhooks.CHECKS,
)
AREAS: tuple[str, ...] = tuple(dict.fromkeys(check.name.split(".")[0] for check in CHECKS))


class UnknownCheck(ValueError):
    pass


def select(names: Iterable[str], checks: Sequence[Check] = CHECKS) -> list[Check]:
    """The checks named, each by its full name or its area (`refund` = every refund.* check),
    in suite order; all of them when no name is given."""
    wanted = list(names)
    if not wanted:
        return list(checks)
    known = {check.name for check in checks} | {check.name.split(".")[0] for check in checks}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise UnknownCheck(
            f"unknown check {', '.join(map(repr, unknown))}; checks are "
            f"{', '.join(c.name for c in checks)} (or an area: "
            f"{', '.join(dict.fromkeys(c.name.split('.')[0] for c in checks))})"
        )
    return [c for c in checks if c.name in wanted or c.name.split(".")[0] in wanted]


def run_check(session: Session, check: Check) -> CheckResult:
    try:
        detail = check.run(session)
    except CheckSkipped as skipped:
        return CheckResult(check.name, Verdict.SKIP, str(skipped))
    except CheckFailed as failed:
        return CheckResult(check.name, Verdict.FAIL, str(failed))
    except Exception as error:  # a bug in the kit must not hide the other checks' results
        return CheckResult(
            check.name,
            Verdict.FAIL,
            f"processor-check itself failed (a bug, please report): "
            f"{type(error).__name__}: {error}",
        )
    return CheckResult(check.name, Verdict.PASS, detail)


def run(
    session: Session,
    checks: Iterable[Check],
    on_result: Callable[[CheckResult], None] | None = None,
) -> list[CheckResult]:
    results = []
    for check in checks:
        result = run_check(session, check)
        if on_result is not None:
            on_result(result)
        results.append(result)
    return results
