// The Processors page's figures: each processor's payments over one of the Overview's windows,
// from GET /v1/analytics/payments grouped by processor (docs/analytics.md), and what its
// circuit breaker means for routing, in words.
import type { PaymentAnalyticsBucket, PayLoops, ProcessorHealth } from "@payloops/sdk";
import { spanOf, type WindowName } from "./analytics";

/** The Overview's named windows; this page has no custom one. */
export type NamedWindow = Exclude<WindowName, "custom">;

/** Each processor's figures over the window, by name. A payment counts for the processor of
 * its last attempt; payments never sent to any processor (no group) are left out. */
export async function loadProcessorFigures(
  api: PayLoops,
  window: NamedWindow,
): Promise<PaymentAnalyticsBucket[]> {
  const span = spanOf(window);
  const answer = await api.analytics.payments({
    startTime: span.start,
    endTime: span.end,
    groupBy: "processor",
  });
  return answer.buckets
    .filter((bucket) => bucket.group !== "")
    .sort((a, b) => a.group.localeCompare(b.group));
}

export type HealthTone = "healthy" | "down" | "probing" | "unknown";

/** A breaker's state as a badge: its tone and its one-word label. */
export function healthBadge(health: ProcessorHealth | undefined): { tone: HealthTone; label: string } {
  switch (health?.state) {
    case "closed":
      return { tone: "healthy", label: "Healthy" };
    case "open":
      return { tone: "down", label: "Down" };
    case "half_open":
      return { tone: "probing", label: "Probing" };
    default:
      return { tone: "unknown", label: "Unknown" };
  }
}

/** What routing does with the processor now, after its badge; "" when it is healthy. */
export function healthNext(health: ProcessorHealth | undefined): string {
  if (health?.state === "open") {
    return health.probeReady ? "The next payment routed to it tests it." : "Skipped by routing until";
  }
  if (health?.state === "half_open") return "One payment is testing it; others skip it until";
  return "";
}

/** "5 failed calls in a row" (calls that got no answer); "" for none. */
export function failuresInARow(health: ProcessorHealth | undefined): string {
  const count = health?.consecutiveFailures ?? 0;
  if (count === 0) return "";
  const calls = count === 1 ? "failed call" : "failed calls in a row";
  return `${new Intl.NumberFormat().format(count)} ${calls}`;
}
