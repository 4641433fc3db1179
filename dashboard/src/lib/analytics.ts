// The Overview's windows and the figures it reads from GET /v1/analytics/payments
// (docs/analytics.md): every figure counts orders created in the window, per processor (the
// one of the order's last attempt), currency or failure code.
import type { PaymentAnalyticsBucket, PayLoops } from "@payloops/sdk";

export type WindowName = "hour" | "day" | "7d" | "30d" | "custom";

export const WINDOWS: readonly { name: WindowName; label: string; ms: number }[] = [
  { name: "hour", label: "Last hour", ms: 3_600_000 },
  { name: "day", label: "Last day", ms: 86_400_000 },
  { name: "7d", label: "Last 7 days", ms: 7 * 86_400_000 },
  { name: "30d", label: "Last 30 days", ms: 30 * 86_400_000 },
];

export interface Span {
  start: Date;
  end: Date;
}

/** The API answers at most 90 days, and at most 1000 buckets of its interval. */
export const MAX_WINDOW_MS = 90 * 86_400_000;

/** Hourly buckets up to two days (a chart of 48 bars at most), daily ones beyond. */
export function intervalFor(span: Span): "hour" | "day" {
  return span.end.getTime() - span.start.getTime() <= 2 * 86_400_000 ? "hour" : "day";
}

/** The span ending now of a named window. */
export function spanOf(name: Exclude<WindowName, "custom">, now: Date = new Date()): Span {
  const length = WINDOWS.find((item) => item.name === name)?.ms ?? 86_400_000;
  return { start: new Date(now.getTime() - length), end: now };
}

/** The value of a `datetime-local` input (the user's time zone) as a Date; null when empty. */
export function fromLocalInput(value: string): Date | null {
  if (!value) return null;
  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? null : time;
}

/** A Date as a `datetime-local` input shows it, in the user's time zone, to the minute. */
export function toLocalInput(time: Date): string {
  const local = new Date(time.getTime() - time.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

/** Why a custom span cannot be asked for; "" when it can. */
export function spanProblem(span: Span | null): string {
  if (!span) return "Give both the start and the end.";
  const length = span.end.getTime() - span.start.getTime();
  if (length <= 0) return "The end must be after the start.";
  if (length > MAX_WINDOW_MS) return "The window can be at most 90 days long.";
  return "";
}

/** Everything the Overview shows for one window. */
export interface Overview {
  totals: PaymentAnalyticsBucket | undefined;
  series: PaymentAnalyticsBucket[];
  byProcessor: PaymentAnalyticsBucket[];
  byFailureCode: PaymentAnalyticsBucket[];
  interval: "hour" | "day";
}

export async function loadOverview(api: PayLoops, span: Span): Promise<Overview> {
  const window = { startTime: span.start, endTime: span.end };
  const interval = intervalFor(span);
  const [totals, series, byProcessor, byFailureCode] = await Promise.all([
    api.analytics.payments(window),
    api.analytics.payments({ ...window, interval }),
    api.analytics.payments({ ...window, groupBy: "processor" }),
    api.analytics.payments({ ...window, groupBy: "failure_code" }),
  ]);
  return {
    totals: totals.buckets[0],
    series: series.buckets,
    byProcessor: byProcessor.buckets.filter((bucket) => bucket.group !== ""),
    byFailureCode: byFailureCode.buckets
      .filter((bucket) => bucket.group !== "")
      .sort((a, b) => b.totalCount - a.totalCount),
    interval,
  };
}

/** The time buckets of the span, the API's where it has one, zeros where no order was made
 * (the API leaves empty buckets out). */
export function filledSeries(
  buckets: readonly PaymentAnalyticsBucket[],
  span: Span,
  interval: "hour" | "day",
): { start: Date; bucket: PaymentAnalyticsBucket | undefined }[] {
  const step = interval === "hour" ? 3_600_000 : 86_400_000;
  const byStart = new Map(buckets.map((bucket) => [bucket.startTime?.getTime(), bucket]));
  const first = Math.floor(span.start.getTime() / step) * step;
  const filled: { start: Date; bucket: PaymentAnalyticsBucket | undefined }[] = [];
  for (let time = first; time < span.end.getTime(); time += step) {
    filled.push({ start: new Date(time), bucket: byStart.get(time) });
  }
  return filled;
}

/** A rate from 0 to 1 as a percentage in the user's locale; "—" when there is none. */
export function formatRate(rate: number | undefined): string {
  if (rate === undefined) return "—";
  return new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 }).format(
    rate,
  );
}

/** A count in the user's locale. */
export function formatCount(count: number): string {
  return new Intl.NumberFormat().format(count);
}

/** A bucket's start as its axis label: the hour, or the day, in the user's time zone. */
export function bucketLabel(start: Date, interval: "hour" | "day"): string {
  return new Intl.DateTimeFormat(
    undefined,
    interval === "hour"
      ? { month: "short", day: "numeric", hour: "numeric", minute: "2-digit" }
      : { month: "short", day: "numeric" },
  ).format(start);
}
