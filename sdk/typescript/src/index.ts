import { PayLoops } from "./client.js";

export { PayLoops, DEFAULT_BASE_URL, BASE_URL_VARIABLE, type ClientOptions } from "./client.js";
export * from "./errors.js";
export type { RequestOptions, FetchFunction } from "./http.js";
export { PagePromise } from "./pagination.js";
export {
  constructEvent,
  DEFAULT_TOLERANCE,
  EVENT_ID_HEADER,
  SIGNATURE_HEADER,
  type ConstructEventOptions,
} from "./webhooks.js";
export type * from "./types.js";
export type * from "./resources/analytics.js";
export type * from "./resources/api-keys.js";
export type * from "./resources/audit-log.js";
export type * from "./resources/customers.js";
export type * from "./resources/events.js";
export type * from "./resources/orders.js";
export type * from "./resources/processors.js";
export type * from "./resources/refunds.js";
export type * from "./resources/routing.js";
export type * from "./resources/sessions.js";
export type * from "./resources/tokens.js";
export type * from "./resources/merchants.js";
export type * from "./resources/users.js";
export type * from "./resources/webhook-endpoints.js";
export type { components, operations, paths } from "./generated/openapi.js";
export { VERSION } from "./version.js";

export default PayLoops;
