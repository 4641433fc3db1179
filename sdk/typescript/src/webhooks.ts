// Verifying PayLoops webhooks on the receiving side. Every delivery carries
// `PayLoops-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]`, where each v1 is
// HMAC-SHA256(secret, `${t}.${raw body}`) with one of the endpoint's valid secrets (two while a
// rotated secret's grace period lasts). The signature covers the raw bytes of the body exactly
// as received, not a re-serialized JSON; the timestamp is inside the signed text, so a captured
// delivery cannot be replayed later with a fresh `t`.
import { fromWire } from "./convert.js";
import { SignatureVerificationError } from "./errors.js";
import { platformCrypto } from "./platform-crypto.js";
import type { Event } from "./types.js";

export const SIGNATURE_HEADER = "PayLoops-Signature";
export const EVENT_ID_HEADER = "PayLoops-Event-Id";
/** Seconds a signature's timestamp may be away from now. */
export const DEFAULT_TOLERANCE = 300;
const SCHEME = "v1";
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

export interface ConstructEventOptions {
  /** Seconds a signature's timestamp may be away from `now` (default 300). */
  readonly tolerance?: number;
  /** The current time (default: the clock), for tests. */
  readonly now?: Date;
}

interface ParsedHeader {
  readonly timestamp: number;
  readonly signatures: readonly Uint8Array<ArrayBuffer>[];
}

function parseHeader(header: string | null | undefined): ParsedHeader {
  if (!header) throw new SignatureVerificationError("the PayLoops-Signature header is missing");
  let timestamp: number | undefined;
  const signatures: Uint8Array<ArrayBuffer>[] = [];
  for (const item of header.split(",")) {
    const separator = item.indexOf("=");
    if (separator < 0) continue;
    const key = item.slice(0, separator).trim();
    const value = item.slice(separator + 1).trim();
    if (key === "t") {
      if (!/^[+-]?\d+$/.test(value)) {
        throw new SignatureVerificationError("the PayLoops-Signature timestamp is not a number");
      }
      timestamp = Number.parseInt(value, 10);
    } else if (key === SCHEME && value !== "") {
      // Anything but a hex SHA-256 cannot match; it still counts as a v1 that was given.
      signatures.push(HEX_SHA256.test(value) ? hexBytes(value) : new Uint8Array());
    }
  }
  if (timestamp === undefined) {
    throw new SignatureVerificationError("the PayLoops-Signature header has no timestamp (t=)");
  }
  if (signatures.length === 0) {
    throw new SignatureVerificationError("the PayLoops-Signature header has no v1 signature");
  }
  return { timestamp, signatures };
}

function hexBytes(hex: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++)
    bytes[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

function bodyBytes(payload: string | Uint8Array | ArrayBuffer): Uint8Array {
  if (typeof payload === "string") return new TextEncoder().encode(payload);
  return payload instanceof Uint8Array ? payload : new Uint8Array(payload);
}

function concat(first: Uint8Array, second: Uint8Array): Uint8Array<ArrayBuffer> {
  const joined = new Uint8Array(first.length + second.length);
  joined.set(first);
  joined.set(second, first.length);
  return joined;
}

async function anySignatureMatches(
  secret: string,
  signed: Uint8Array<ArrayBuffer>,
  signatures: readonly Uint8Array<ArrayBuffer>[],
): Promise<boolean> {
  const subtle = (await platformCrypto()).subtle;
  const key = await subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  // subtle.verify compares in constant time; any one signature may match (secret rotation).
  const results = await Promise.all(
    signatures.map((signature) => subtle.verify("HMAC", key, signature, signed)),
  );
  return results.some(Boolean);
}

/**
 * The event, if `header` is a valid PayLoops-Signature of `payload` (the raw request body) with
 * `secret`, made at most `tolerance` seconds from now; throws SignatureVerificationError
 * otherwise. Deliveries are at least once: drop an event whose `id` was seen before.
 */
export async function constructEvent(
  payload: string | Uint8Array | ArrayBuffer,
  header: string | null | undefined,
  secret: string,
  options: ConstructEventOptions = {},
): Promise<Event> {
  if (!secret) throw new SignatureVerificationError("no webhook signing secret given");
  const body = bodyBytes(payload);
  const { timestamp, signatures } = parseHeader(header);
  const signed = concat(new TextEncoder().encode(`${timestamp}.`), body);
  if (!(await anySignatureMatches(secret, signed, signatures))) {
    throw new SignatureVerificationError(
      "no signature in the PayLoops-Signature header matches the payload with this secret " +
        "(is it the raw request body, and this endpoint's secret?)",
    );
  }
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  const now = (options.now ?? new Date()).getTime() / 1000;
  const skew = Math.abs(now - timestamp);
  if (skew > tolerance) {
    throw new SignatureVerificationError(
      `the signature's timestamp is ${Math.floor(skew)}s away from now, more than the ` +
        `${tolerance}s tolerance (a replayed delivery, or a wrong clock)`,
    );
  }
  let event: unknown;
  try {
    event = JSON.parse(new TextDecoder().decode(body));
  } catch {
    throw new SignatureVerificationError("the signed payload is not JSON");
  }
  if (typeof event !== "object" || event === null || Array.isArray(event)) {
    throw new SignatureVerificationError("the signed payload is not a JSON object");
  }
  return fromWire(event, { ref: "Event" }) as Event;
}

/** `payloops.webhooks`: verifies deliveries; needs no API key. */
export class Webhooks {
  readonly constructEvent = constructEvent;
}
