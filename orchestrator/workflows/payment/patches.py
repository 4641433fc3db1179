"""The payment workflow's patches, and which recorded histories need each: the one place that
says so.

A payment in flight replays its history on whichever worker picks it up next, so a change to
the commands the workflow issues goes behind `workflow.patched(id)`: new payments take the new
path (and record the patch's marker), payments whose history lacks the marker take the old one.
tests/orchestrator/test_replay.py replays the histories under tests/orchestrator/histories/:
the top folder holds payments recorded with the current workflow, each subfolder payments
recorded before a patch.

| patch id                      | the new path                  | old path replayed by          |
|-------------------------------|-------------------------------|-------------------------------|
| `hold-authorization`          | an authorization waits for    | histories/authorize-as-       |
| (HOLD_AUTHORIZATION,          | its capture or cancel and is  | activity/manual_capture.json  |
| workflow.py)                  | voided when it expires        | (ends at REQUIRES_CAPTURE)    |
| `authorize-as-local-activity` | the routing step sends the    | every history in              |
| (AUTHORIZE_LOCALLY,           | first Authorize in one local  | histories/authorize-as-       |
| first_step.py)                | activity; further calls are   | activity/ (routed by          |
|                               | regular activities            | route_payment, every          |
|                               |                               | Authorize a regular activity) |
| `index-status`                | the order's status upserted   | every history in histories/   |
| (INDEX_STATUS, state.py)      | as the PayLoopsStatus search  | before-index-status/ and      |
|                               | attribute each time it        | histories/authorize-as-       |
|                               | changes                       | activity/ (none upserts)      |

histories/authorize-as-activity/ was recorded before all three patches (hold-authorization is
the oldest); histories/before-index-status/ with the first two; histories/ with all three. Only
a payment that ends in REQUIRES_CAPTURE asks about `hold-authorization`: the other histories
replay either way.

When a patch can be retired: once no payment started before the patch's deploy is still open.
A payment stays open while it holds an authorization (up to PAYLOOPS_AUTHORIZATION_TTL_SECONDS,
7 days by default), while it undoes a charge (until the processor confirms), while an unknown
attempt is resolved under the "wait" policy, and for LATE_CHARGE_WATCH (24 h) after an attempt
is judged never to have arrived; so no sooner than 7 days after the deploy, and only when
`temporal workflow list --query "WorkflowType='PaymentWorkflow' AND ExecutionStatus='Running'
AND StartTime < '<deploy time>'"` finds none. Both old paths are replayed by the same
subfolder, so the two patches retire together, once the later one (`authorize-as-local-activity`)
may. Then: replace each `workflow.patched(id)` with `workflow.deprecate_patch(id)`, delete the
old paths, histories/authorize-as-activity/ and this table's rows; once no payment started
before that deploy is open either, delete the `deprecate_patch` calls. `index-status` retires
the same way on its own schedule, with histories/before-index-status/.
"""

AUTHORIZE_LOCALLY = "authorize-as-local-activity"
HOLD_AUTHORIZATION = "hold-authorization"
INDEX_STATUS = "index-status"
