// Converts values between the API's JSON (snake_case, int64 strings, RFC 3339 strings,
// UPPER_CASE enums) and the SDK's idiomatic form (camelCase, numbers, Dates, lower_case enums),
// guided by the shapes generated from the OpenAPI document. Map keys (metadata, credentials)
// are the caller's own and are never renamed; free-form objects pass through untouched.
import { SCHEMAS } from "./generated/shapes.js";
import type { Shape } from "./shape.js";

type Json = unknown;
type Decorator = (value: Record<string, unknown>) => void;

export function toCamelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

export function toSnakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fieldsOf(shape: Shape): Readonly<Record<string, Shape>> | undefined {
  if (typeof shape !== "object") return undefined;
  if ("object" in shape) return shape.object;
  if ("ref" in shape) {
    const named = SCHEMAS[shape.ref];
    return named === undefined ? undefined : fieldsOf(named);
  }
  return undefined;
}

function resolve(shape: Shape): Shape {
  let current = shape;
  for (let depth = 0; typeof current === "object" && "ref" in current && depth < 8; depth++) {
    const named: Shape | undefined = SCHEMAS[current.ref];
    if (named === undefined || (typeof named === "object" && "object" in named)) return current;
    current = named;
  }
  return current;
}

// An event's `object` is a free-form object on the wire; its type's prefix says what it is.
const EVENT_OBJECT_SCHEMAS: Readonly<Record<string, string>> = {
  order: "Order",
  refund: "Refund",
  webhook_endpoint: "WebhookEndpoint",
};

// Idiomatic additions to a schema's decoded objects, by schema name.
const DECORATORS: Readonly<Record<string, Decorator>> = {
  Event: (event) => {
    const type = event["type"];
    const schema =
      typeof type === "string" ? EVENT_OBJECT_SCHEMAS[type.split(".")[0] ?? ""] : undefined;
    if (schema !== undefined && schema in SCHEMAS && isRecord(event["object"])) {
      event["object"] = fromWire(event["object"], { ref: schema });
    }
  },
  Order: (order) => {
    const nextAction = order["nextAction"];
    if (isRecord(nextAction) && typeof nextAction["redirectUrl"] === "string") {
      order["redirectUrl"] = nextAction["redirectUrl"];
    }
  },
};

/** The SDK's form of a value the API returned. */
export function fromWire(value: Json, shape: Shape): unknown {
  if (value === null || value === undefined) return value;
  const resolved = resolve(shape);
  if (typeof resolved === "string") return scalarFromWire(value, resolved);
  if ("array" in resolved) {
    return Array.isArray(value) ? value.map((item) => fromWire(item, resolved.array)) : value;
  }
  if (!isRecord(value)) return value;
  if ("map" in resolved) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, fromWire(item, resolved.map)]),
    );
  }
  const fields = fieldsOf(resolved) ?? {};
  const decoded: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    decoded[toCamelCase(key)] = fromWire(item, fields[key] ?? "raw");
  }
  if ("ref" in resolved) DECORATORS[resolved.ref]?.(decoded);
  return decoded;
}

function scalarFromWire(value: Json, shape: Exclude<Shape, object>): unknown {
  switch (shape) {
    case "int64":
      return typeof value === "string" && value.trim() !== "" ? Number(value) : value;
    case "timestamp":
      return typeof value === "string" ? new Date(value) : value;
    case "enum":
      return typeof value === "string" ? value.toLowerCase() : value;
    default:
      return value;
  }
}

/** The API's form of a value the caller gave. */
export function toWire(value: unknown, shape: Shape): Json {
  if (value === null || value === undefined) return value;
  const resolved = resolve(shape);
  if (typeof resolved === "string") return scalarToWire(value, resolved);
  if ("array" in resolved) {
    return Array.isArray(value) ? value.map((item) => toWire(item, resolved.array)) : value;
  }
  if (!isRecord(value) || value instanceof Date) return value;
  if ("map" in resolved) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, toWire(item, resolved.map)]),
    );
  }
  const fields = fieldsOf(resolved) ?? {};
  const encoded: Record<string, Json> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined) continue;
    const wireKey = key in fields ? key : toSnakeCase(key);
    encoded[wireKey] = toWire(item, fields[wireKey] ?? "raw");
  }
  return encoded;
}

function scalarToWire(value: unknown, shape: Exclude<Shape, object>): Json {
  switch (shape) {
    case "int64":
      return typeof value === "number" || typeof value === "bigint" ? String(value) : value;
    case "timestamp":
      return value instanceof Date ? value.toISOString() : value;
    case "enum":
      return typeof value === "string" ? value.toUpperCase() : value;
    default:
      return value;
  }
}
