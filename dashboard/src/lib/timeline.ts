// A payment's history as one list, oldest first: its creation, the routing decision, each
// attempt (3-D Secure, failover and compensation included), capture, refunds, and the events
// sent about it with their webhook deliveries.
import type { Event, Order, Refund } from "@payloops/sdk";

export type EventDeliveries = Awaited<
  ReturnType<import("@payloops/sdk").PayLoops["events"]["deliveries"]["list"]>
>["deliveries"];

export type Entry =
  | { kind: "created"; time: Date | undefined }
  | { kind: "routed"; time: Date | undefined; routing: NonNullable<Order["routing"]> }
  | { kind: "attempt"; time: Date | undefined; attempt: Order["attempts"][number]; index: number }
  | { kind: "refund"; time: Date | undefined; refund: Refund }
  | { kind: "event"; time: Date | undefined; event: Event; deliveries: EventDeliveries };

export function timeline(
  order: Order,
  refunds: readonly Refund[],
  events: readonly { event: Event; deliveries: EventDeliveries }[],
): Entry[] {
  const entries: Entry[] = [{ kind: "created", time: order.createTime }];
  if (order.routing) {
    // Routing happens as the first attempt is made.
    entries.push({ kind: "routed", time: order.attempts[0]?.createTime ?? order.createTime, routing: order.routing });
  }
  order.attempts.forEach((attempt, index) => entries.push({ kind: "attempt", time: attempt.createTime, attempt, index }));
  for (const refund of refunds) entries.push({ kind: "refund", time: refund.createTime, refund });
  for (const { event, deliveries } of events) entries.push({ kind: "event", time: event.createTime, event, deliveries });
  const order_ = (entry: Entry): number => (entry.kind === "created" ? 0 : entry.kind === "routed" ? 1 : 2);
  return entries
    .map((entry, position) => ({ entry, position }))
    .sort(
      (a, b) =>
        (a.entry.time?.getTime() ?? 0) - (b.entry.time?.getTime() ?? 0) ||
        order_(a.entry) - order_(b.entry) ||
        a.position - b.position,
    )
    .map(({ entry }) => entry);
}

/** Authorized: what the processor approved, whether captured yet or not. */
export function authorizedAmount(order: Order): number {
  const approved = order.attempts.some((attempt) => ["authorized", "succeeded", "canceled"].includes(attempt.outcome));
  return approved ? order.amount : 0;
}

/** What may still be refunded. */
export function refundable(order: Order): number {
  return Math.max(0, order.amountReceived - order.amountRefunded - order.amountRefundPending);
}
