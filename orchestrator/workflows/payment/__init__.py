"""The payment workflow: one per order. It waits for the `pay` update, routes, and tries the
route's processors in order with deterministic attempt keys until one settles the payment,
following a 3-D Secure challenge when one is needed. It does no I/O itself: every step is an
activity.

The money rules, as they appear here:
- every try at a processor has its own key, re-sent unchanged on every retry of that try;
- an unknown outcome is resolved by asking the same processor again (same key) before any
  other processor is charged; only when it stays unknown past the resolution budget may the
  merchant's policy move on, and then the attempt stays open as an obligation: it is looked up
  until known, and if it turns out charged while another attempt won, it is voided or refunded;
- only an answer about the payment itself settles anything: a refused lookup, a refused re-send
  or a refused void proves nothing and is asked again;
- the first charge to claim the order is its payment; any other charge is undone, and the undo
  is checked with the processor until it holds;
- at most one charge survives per order.

The parts, each a set of plain functions over one `PaymentState`; each imports only the ones
listed before it, so there is no import circle:
- rules.py            what an answer means (outcome sets, failover reasons, order statuses)
- patches.py          the `workflow.patched` ids, and which recorded histories need each
- state.py            what the workflow knows while it runs; waiting for gateway news
- processor_calls.py  the activity calls to a processor (Authorize, lookup, void/refund, capture)
- progress.py         writes to the read model, and their events handed to webhook delivery
- compensation.py     claiming the order, or undoing a charge that must not survive
- authorize.py        one try at a processor, resolving an unknown outcome by its key
- challenge.py        the 3-D Secure wait
- obligations.py      unknown attempts left open in the background, and late charges
- lifecycle.py        the merchant's capture or cancel; holding an authorization until then
- attempts.py         the plan's processors in order until one settles the payment
- first_step.py       routing, and the first Authorize sent with it
- workflow.py         the workflow class: its handlers, and the run that composes the parts
"""

from orchestrator.workflows.payment.workflow import PaymentWorkflow

__all__ = ["PaymentWorkflow"]
