// The SDK's error classes, and how an HTTP error response becomes one of them. Every error the
// API returns is a google.rpc.Status JSON: `code`, `message` and `details`, with an ErrorInfo
// (stable `reason`, `metadata`) and, for invalid fields, a BadRequest.

const ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo";
const BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest";
const IDEMPOTENCY_REASONS: ReadonlySet<string> = new Set([
  "IDEMPOTENCY_KEY_REUSED",
  "IDEMPOTENCY_KEY_INVALID",
]);
const BODY_EXCERPT = 200;

/** One invalid request field, such as `amount` with reason AMOUNT_NOT_POSITIVE. */
export interface FieldViolation {
  readonly field: string;
  readonly reason: string;
  readonly description: string;
}

/** Base class of every error the SDK throws. */
export class PayLoopsError extends Error {
  override name = "PayLoopsError";
}

export interface APIErrorDetails {
  readonly status: number;
  readonly code?: number | undefined;
  readonly reason?: string | undefined;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly fieldViolations?: readonly FieldViolation[];
  readonly correlationId?: string | undefined;
  readonly requestId?: string | undefined;
}

/** The API answered with an error status. */
export class APIError extends PayLoopsError {
  override name = "APIError";
  /** The HTTP status. */
  readonly status: number;
  /** The gRPC status code of the google.rpc.Status body, when there was one. */
  readonly code: number | undefined;
  /** The stable reason (ErrorInfo), such as ORDER_NOT_FOUND: what to branch on. */
  readonly reason: string | undefined;
  readonly metadata: Readonly<Record<string, string>>;
  readonly fieldViolations: readonly FieldViolation[];
  /** The id to give PayLoops support: it finds this request in the platform's logs. */
  readonly correlationId: string | undefined;
  readonly requestId: string | undefined;

  constructor(message: string, details: APIErrorDetails) {
    super(message);
    this.status = details.status;
    this.code = details.code;
    this.reason = details.reason;
    this.metadata = details.metadata ?? {};
    this.fieldViolations = details.fieldViolations ?? [];
    this.correlationId = details.correlationId;
    this.requestId = details.requestId;
  }
}

/** 400: the request is invalid; `fieldViolations` says which fields and why. */
export class InvalidRequestError extends APIError {
  override name = "InvalidRequestError";
}

/** 400: the Idempotency-Key was reused with a different request, or is malformed. */
export class IdempotencyError extends InvalidRequestError {
  override name = "IdempotencyError";
}

/** 401: the API key is missing, unknown or revoked. */
export class AuthenticationError extends APIError {
  override name = "AuthenticationError";
}

/** 403: the key or session may not do this. */
export class PermissionDeniedError extends APIError {
  override name = "PermissionDeniedError";
}

/** 404: no such object for this key. */
export class NotFoundError extends APIError {
  override name = "NotFoundError";
}

/** 409: the request conflicts with the object's state or another request in flight. */
export class ConflictError extends APIError {
  override name = "ConflictError";
}

/** 429: too many requests. */
export class RateLimitError extends APIError {
  override name = "RateLimitError";
}

/** 5xx: the API failed. */
export class InternalServerError extends APIError {
  override name = "InternalServerError";
}

/** No response: connection refused or reset, DNS failure. */
export class APIConnectionError extends PayLoopsError {
  override name = "APIConnectionError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** No response within the request's timeout. */
export class TimeoutError extends APIConnectionError {
  override name = "TimeoutError";
}

/** The caller's AbortSignal ended the request. */
export class AbortError extends PayLoopsError {
  override name = "AbortError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A webhook's PayLoops-Signature is missing, malformed, does not match the payload and secret,
 * or was made outside the tolerance window (a replay). Answer such a request with 400. */
export class SignatureVerificationError extends PayLoopsError {
  override name = "SignatureVerificationError";
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function parseObject(body: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function violationsOf(detail: Record<string, unknown>): FieldViolation[] {
  const raw = detail["field_violations"] ?? detail["fieldViolations"];
  return (Array.isArray(raw) ? raw : []).filter(isRecord).map((item) => ({
    field: String(item["field"] ?? ""),
    reason: String(item["reason"] ?? ""),
    description: String(item["description"] ?? ""),
  }));
}

function classFor(status: number, reason: string | undefined): typeof APIError {
  if (status === 400) {
    return reason !== undefined && IDEMPOTENCY_REASONS.has(reason)
      ? IdempotencyError
      : InvalidRequestError;
  }
  if (status >= 500) return InternalServerError;
  const byStatus: Readonly<Record<number, typeof APIError>> = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
  };
  return byStatus[status] ?? APIError;
}

/** The error for a non-2xx response. Never throws, whatever the body holds. */
export function errorFromResponse(status: number, body: string, headers: Headers): APIError {
  const correlationId = headers.get("x-correlation-id") ?? undefined;
  const requestId = headers.get("x-request-id") ?? undefined;
  const parsed = parseObject(body);
  if (parsed === undefined) {
    const excerpt = body.slice(0, BODY_EXCERPT).trim();
    const shown = excerpt ? `: ${JSON.stringify(excerpt)}` : "";
    const message = `HTTP ${status} with a body that is not a JSON error${shown}`;
    return new (classFor(status, undefined))(message, { status, correlationId, requestId });
  }
  let reason: string | undefined;
  let metadata: Record<string, string> = {};
  const fieldViolations: FieldViolation[] = [];
  const details = parsed["details"];
  for (const detail of (Array.isArray(details) ? details : []).filter(isRecord)) {
    if (detail["@type"] === ERROR_INFO) {
      reason = nonEmptyString(detail["reason"]);
      const raw = detail["metadata"];
      metadata = isRecord(raw)
        ? Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, String(v)]))
        : {};
    } else if (detail["@type"] === BAD_REQUEST) {
      fieldViolations.push(...violationsOf(detail));
    }
  }
  const code = parsed["code"];
  return new (classFor(status, reason))(nonEmptyString(parsed["message"]) ?? `HTTP ${status}`, {
    status,
    code: typeof code === "number" ? code : undefined,
    reason,
    metadata,
    fieldViolations,
    correlationId: correlationId ?? metadata["correlationId"] ?? metadata["correlation_id"],
    requestId: requestId ?? metadata["request_id"],
  });
}
