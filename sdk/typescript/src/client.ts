// The client: `new PayLoops(apiKey, options)`, one property per group of the API's operations.
import { Api } from "./api.js";
import { type FetchFunction, Transport } from "./http.js";
import { Analytics } from "./resources/analytics.js";
import { ApiKeys } from "./resources/api-keys.js";
import { AuditLog } from "./resources/audit-log.js";
import { Customers } from "./resources/customers.js";
import { Events } from "./resources/events.js";
import { Health } from "./resources/health.js";
import { Merchants } from "./resources/merchants.js";
import { Orders } from "./resources/orders.js";
import { ProcessorAccounts, Processors } from "./resources/processors.js";
import { Refunds } from "./resources/refunds.js";
import { Routing } from "./resources/routing.js";
import { Sessions } from "./resources/sessions.js";
import { Tokens } from "./resources/tokens.js";
import { Users } from "./resources/users.js";
import { WebhookEndpoints } from "./resources/webhook-endpoints.js";
import { Webhooks } from "./webhooks.js";

export const DEFAULT_BASE_URL = "https://api.payloops.dev";
/** The environment variable that overrides the default base URL (a `payloops dev` mesh sets it). */
export const BASE_URL_VARIABLE = "PAYLOOPS_API_URL";
const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_RETRIES = 2;

export interface ClientOptions {
  /** The API's address (default: $PAYLOOPS_API_URL where there is an environment, else
   * https://api.payloops.dev). */
  readonly baseUrl?: string;
  /** Milliseconds before one try of a call gives up (default 60 000). */
  readonly timeout?: number;
  /** Retries of a call that failed in a way retrying cannot make worse (default 2). */
  readonly maxRetries?: number;
  /** The fetch to use (default: the platform's). */
  readonly fetch?: FetchFunction;
  /** Headers sent with every call, such as `PayLoops-Mode: live` for a dashboard session. */
  readonly headers?: Readonly<Record<string, string>>;
}

function environmentBaseUrl(): string | undefined {
  const runtime = globalThis as { process?: { env?: Record<string, string | undefined> } };
  return runtime.process?.env?.[BASE_URL_VARIABLE] || undefined;
}

function platformFetch(): FetchFunction {
  if (typeof globalThis.fetch !== "function") {
    throw new TypeError("this runtime has no fetch: pass one as the `fetch` option");
  }
  return (input, init) => globalThis.fetch(input, init);
}

export class PayLoops {
  readonly orders: Orders;
  readonly refunds: Refunds;
  readonly customers: Customers;
  readonly tokens: Tokens;
  readonly webhookEndpoints: WebhookEndpoints;
  readonly events: Events;
  readonly routing: Routing;
  readonly processors: Processors;
  readonly processorAccounts: ProcessorAccounts;
  readonly apiKeys: ApiKeys;
  readonly users: Users;
  readonly sessions: Sessions;
  readonly auditLog: AuditLog;
  readonly analytics: Analytics;
  readonly merchants: Merchants;
  readonly health: Health;
  readonly webhooks = new Webhooks();

  /**
   * @param apiKey a secret key (sk_test_…/sk_live_…), a dashboard session's access token, a
   *   publishable key (pk_…, for `tokens` only) or the admin key (for `merchants` only); empty
   *   for the calls that take none (`sessions`, `health`).
   */
  constructor(apiKey: string, options: ClientOptions = {}) {
    const api = new Api(
      new Transport({
        apiKey,
        baseUrl: options.baseUrl ?? environmentBaseUrl() ?? DEFAULT_BASE_URL,
        timeout: options.timeout ?? DEFAULT_TIMEOUT_MS,
        maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES,
        fetch: options.fetch ?? platformFetch(),
        headers: options.headers ?? {},
      }),
    );
    this.orders = new Orders(api);
    this.refunds = new Refunds(api);
    this.customers = new Customers(api);
    this.tokens = new Tokens(api);
    this.webhookEndpoints = new WebhookEndpoints(api);
    this.events = new Events(api);
    this.routing = new Routing(api);
    this.processors = new Processors(api);
    this.processorAccounts = new ProcessorAccounts(api);
    this.apiKeys = new ApiKeys(api);
    this.users = new Users(api);
    this.sessions = new Sessions(api);
    this.auditLog = new AuditLog(api);
    this.analytics = new Analytics(api);
    this.merchants = new Merchants(api);
    this.health = new Health(api);
  }
}
