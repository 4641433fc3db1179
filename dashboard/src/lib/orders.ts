// What the Payments pages share: the list filters as the URL holds them, and the CSV export.
import type { Order, OrderListParams } from "@payloops/sdk";
import { parseAmount, toDecimal } from "./format";

export const STATUSES = [
  "requires_payment_method",
  "processing",
  "requires_action",
  "requires_capture",
  "succeeded",
  "failed",
  "canceled",
] as const;

/** The filters the API offers on ListOrders, by their URL query names. */
export const FILTER_NAMES = [
  "query",
  "status",
  "processor",
  "currency",
  "created_after",
  "created_before",
  "metadata_key",
  "metadata_value",
  "amount_min",
  "amount_max",
  "failure_code",
] as const;
export type FilterName = (typeof FILTER_NAMES)[number];
export type Filters = Partial<Record<FilterName, string>>;

export function filtersFromUrl(url: URL): Filters {
  const filters: Filters = {};
  for (const name of FILTER_NAMES) {
    const value = url.searchParams.get(name)?.trim();
    if (value) filters[name] = value;
  }
  return filters;
}

export function filtersToQuery(filters: Filters): string {
  const query = new URLSearchParams();
  for (const name of FILTER_NAMES) {
    const value = filters[name]?.trim();
    if (value) query.set(name, value);
  }
  const text = query.toString();
  return text ? `?${text}` : "";
}

// The date inputs give a local calendar day; the API takes an instant. "Created before" a day
// includes that whole day.
function dayStart(day: string, plusDays = 0): Date {
  const [year, month, date] = day.split("-").map(Number);
  return new Date(year ?? 1970, (month ?? 1) - 1, (date ?? 1) + plusDays);
}

export function listParams(filters: Filters): OrderListParams {
  const params: Record<string, unknown> = {};
  if (filters.status) params.status = filters.status;
  if (filters.processor) params.processor = filters.processor;
  if (filters.currency) params.currency = filters.currency.toUpperCase();
  if (filters.created_after) params.createdAfter = dayStart(filters.created_after);
  if (filters.created_before) params.createdBefore = dayStart(filters.created_before, 1);
  if (filters.metadata_key) params.metadataKey = filters.metadata_key;
  if (filters.metadata_key && filters.metadata_value) params.metadataValue = filters.metadata_value;
  if (filters.failure_code) params.failureCode = filters.failure_code;
  if (filters.query) params.query = filters.query;
  // Amounts compare within one currency only: the API takes a range with a currency.
  if (filters.currency) {
    const min = filters.amount_min ? parseAmount(filters.amount_min, filters.currency) : null;
    const max = filters.amount_max ? parseAmount(filters.amount_max, filters.currency) : null;
    if (min) params.amountMin = min;
    if (max) params.amountMax = max;
  }
  return params as OrderListParams;
}

/** The processor that settled the order (its last attempt's). */
export function lastProcessor(order: Order): string {
  return order.attempts.at(-1)?.processor ?? "";
}

export const CSV_COLUMNS = [
  "id",
  "created_utc",
  "status",
  "amount",
  "currency",
  "amount_received",
  "amount_refunded",
  "processor",
  "processor_reference",
  "failure_code",
  "customer",
  "description",
] as const;

// A cell a spreadsheet would run as a formula is prefixed with an apostrophe; quotes, commas
// and line breaks are quoted as RFC 4180 says.
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function csvRow(order: Order): string {
  const last = order.attempts.at(-1);
  const cells = [
    order.id,
    order.createTime ? order.createTime.toISOString() : "",
    order.status,
    toDecimal(order.amount, order.currency),
    order.currency.toUpperCase(),
    toDecimal(order.amountReceived, order.currency),
    toDecimal(order.amountRefunded, order.currency),
    last?.processor ?? "",
    last?.processorReference ?? "",
    order.failureCode,
    order.customer,
    order.description,
  ];
  return `${cells.map((cell) => csvCell(String(cell ?? ""))).join(",")}\r\n`;
}
