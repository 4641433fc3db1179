// What the Webhooks pages show of endpoints and deliveries.
import type { EventDelivery, WebhookEndpoint } from "@payloops/sdk";

/** Every event type, as the API names it ("*" subscribes to all, present and future). */
export const ALL_EVENTS = "*";
export const EVENT_TYPES = [
  "order.succeeded",
  "order.failed",
  "order.requires_action",
  "order.requires_capture",
  "order.captured",
  "order.canceled",
  "refund.succeeded",
  "refund.failed",
  "webhook_endpoint.disabled",
] as const;

export function eventsLabel(endpoint: WebhookEndpoint): string {
  return endpoint.enabledEvents.includes(ALL_EVENTS) ? "All events" : endpoint.enabledEvents.join(", ");
}

/** The last attempt's HTTP status ("no answer" when it never got one). */
export function lastResponse(delivery: EventDelivery): string {
  const last = delivery.attempts.at(-1);
  if (!last) return "not sent yet";
  return last.httpStatus ? `HTTP ${last.httpStatus}` : "no answer";
}
