// One API call over the platform's fetch, with retries. A call is retried only when retrying
// cannot do harm: no response at all, 409 IDEMPOTENCY_KEY_IN_USE (the first try is still
// running), 429 and 503. Every mutating call carries an Idempotency-Key, made once per call and
// sent unchanged on each of its retries, so the server replays the first result instead of,
// say, paying twice.
import {
  AbortError,
  APIConnectionError,
  APIError,
  errorFromResponse,
  InternalServerError,
  PayLoopsError,
  TimeoutError,
} from "./errors.js";
import { platformCrypto } from "./platform-crypto.js";
import { VERSION } from "./version.js";

export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

export interface TransportOptions {
  readonly apiKey: string;
  readonly baseUrl: string;
  readonly timeout: number;
  readonly maxRetries: number;
  readonly fetch: FetchFunction;
  readonly headers: Readonly<Record<string, string>>;
}

/** Per-call options, accepted by every method as its last argument. */
export interface RequestOptions {
  /** The key of this call; by default a new random one for each mutating call. */
  readonly idempotencyKey?: string;
  /** Milliseconds before one try of this call gives up (default: the client's timeout). */
  readonly timeout?: number;
  /** Retries of this call (default: the client's maxRetries). */
  readonly maxRetries?: number;
  /** Ends the call, its tries and its waits between tries. */
  readonly signal?: AbortSignal;
  /** Extra headers, such as `PayLoops-Mode` for a dashboard session. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ApiRequest {
  readonly method: string;
  readonly path: string;
  readonly query?: Readonly<Record<string, unknown>>;
  readonly body?: unknown;
}

const RETRY_STATUSES: ReadonlySet<number> = new Set([429, 503]);
const INITIAL_DELAY_MS = 500;
const MAX_DELAY_MS = 8000;

/** Exponential backoff with full jitter in its upper half: retrying clients do not come back
 * in lockstep. */
export function retryDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_MS, INITIAL_DELAY_MS * 2 ** attempt);
  return ceiling * (0.5 + random() / 2);
}

export function isRetryable(error: PayLoopsError): boolean {
  if (error instanceof APIConnectionError) return true;
  if (!(error instanceof APIError)) return false;
  if (error.status === 409) return error.reason === "IDEMPOTENCY_KEY_IN_USE";
  return RETRY_STATUSES.has(error.status);
}

function queryString(query: Readonly<Record<string, unknown>> | undefined): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null) continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(name, String(item));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

async function newIdempotencyKey(): Promise<string> {
  return (await platformCrypto()).randomUUID();
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function abortError(signal: AbortSignal | undefined): AbortError {
  return new AbortError("the request was aborted by its AbortSignal", { cause: signal?.reason });
}

export class Transport {
  readonly #options: TransportOptions;

  constructor(options: TransportOptions) {
    this.#options = options;
  }

  /** The parsed JSON body of a successful response, after any retries. */
  async request(request: ApiRequest, options: RequestOptions = {}): Promise<unknown> {
    const url =
      this.#options.baseUrl.replace(/\/+$/, "") + request.path + queryString(request.query);
    const headers: Record<string, string> = {
      Accept: "application/json",
      "User-Agent": `payloops-node/${VERSION}`,
      ...this.#options.headers,
      ...options.headers,
    };
    // (Sign-in and health take no key: the client is made with an empty one.)
    if (this.#options.apiKey) headers["Authorization"] = `Bearer ${this.#options.apiKey}`;
    if (request.method !== "GET") {
      headers["Idempotency-Key"] = options.idempotencyKey ?? (await newIdempotencyKey());
    }
    let body: string | undefined;
    if (request.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(request.body);
    }
    const maxRetries = options.maxRetries ?? this.#options.maxRetries;
    const init = { method: request.method, headers, body };
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#send(url, init, options);
      } catch (error) {
        if (!(error instanceof PayLoopsError) || attempt >= maxRetries || !isRetryable(error)) {
          throw error;
        }
      }
      await sleep(retryDelay(attempt), options.signal);
    }
  }

  async #send(
    url: string,
    init: { method: string; headers: Record<string, string>; body: string | undefined },
    options: RequestOptions,
  ): Promise<unknown> {
    const timeout = options.timeout ?? this.#options.timeout;
    // One controller ends this try: on its timeout, or when the caller's signal fires.
    const controller = new AbortController();
    const timeoutId = setTimeout(() => controller.abort(), timeout);
    const onCallerAbort = (): void => controller.abort(options.signal?.reason);
    if (options.signal?.aborted) onCallerAbort();
    options.signal?.addEventListener("abort", onCallerAbort, { once: true });
    const signal = controller.signal;
    try {
      let response: Response;
      try {
        response = await this.#options.fetch(url, { ...init, signal });
      } catch (cause) {
        throw this.#failure(cause, url, timeout, options.signal, signal);
      }
      let text: string;
      try {
        text = await response.text();
      } catch (cause) {
        throw this.#failure(cause, url, timeout, options.signal, signal);
      }
      if (!response.ok) throw errorFromResponse(response.status, text, response.headers);
      return parseBody(text, response);
    } finally {
      clearTimeout(timeoutId);
      options.signal?.removeEventListener("abort", onCallerAbort);
    }
  }

  #failure(
    cause: unknown,
    url: string,
    timeout: number,
    callerSignal: AbortSignal | undefined,
    trySignal: AbortSignal,
  ): PayLoopsError {
    if (callerSignal?.aborted) return abortError(callerSignal);
    if (trySignal.aborted) {
      return new TimeoutError(`no response from ${url} within ${timeout} ms`, { cause });
    }
    const reason = cause instanceof Error ? (cause.cause ?? cause) : cause;
    const detail = reason instanceof Error ? reason.message : String(reason);
    return new APIConnectionError(`could not reach the PayLoops API at ${url}: ${detail}`, {
      cause,
    });
  }
}

function parseBody(text: string, response: Response): unknown {
  if (text === "") return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new InternalServerError(
      `HTTP ${response.status} with a body that is not JSON: ${JSON.stringify(text.slice(0, 200))}`,
      {
        status: response.status,
        correlationId: response.headers.get("x-correlation-id") ?? undefined,
      },
    );
  }
}
