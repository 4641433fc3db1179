// The idiomatic types, derived from the generated wire types (generated/openapi.ts): camelCase
// keys, numbers for int64 strings, Dates for timestamps, lower-case enum values. Map keys
// (metadata) stay as the caller wrote them. convert.ts does the same at run time.
import type { $Read, $Write, operations } from "./generated/openapi.js";
import type { DurationString, Int64String, TimestampString } from "./wire.js";

/** `create_time` → `createTime`. */
export type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

// openapi-typescript marks readOnly fields $Read<…> and writeOnly ones $Write<…>: a caller never
// sends the first, the API never returns the second.
type ReadOnlyField = $Read<unknown>;
type WriteOnlyField = $Write<unknown>;
type Unmarked<T> = T extends $Read<infer U> ? U : T extends $Write<infer U> ? U : T;

/** A value as the SDK takes it from its caller. */
export type Input<T> =
  T extends $Write<infer U>
    ? Input<U>
    : T extends Int64String
      ? number | bigint
      : T extends TimestampString
        ? Date | string
        : T extends DurationString
          ? string
          : T extends string
            ? string extends T
              ? string
              : Lowercase<T> | T
            : T extends readonly (infer Item)[]
              ? readonly Input<Item>[]
              : T extends object
                ? Simplify<{
                    -readonly [
                      K in keyof T as NonNullable<T[K]> extends ReadOnlyField
                        ? never
                        : CamelCase<K & string>
                    ]: Input<T[K]>;
                  }>
                : T;

// The API prints every scalar, enum, list and map even when empty; a message or timestamp
// field that is not set is absent.
type AlwaysPresent<T> = T extends TimestampString
  ? false
  : T extends string | number | boolean | readonly unknown[]
    ? true
    : T extends object
      ? string extends keyof T
        ? true
        : false
      : true;

type FieldOf<T, K extends keyof T> = Unmarked<NonNullable<T[K]>>;

type ReturnedKeys<T> = {
  [K in keyof T]-?: NonNullable<T[K]> extends WriteOnlyField ? never : K;
}[keyof T];

type PresentKeys<T> = {
  [K in ReturnedKeys<T>]-?: AlwaysPresent<FieldOf<T, K>> extends true ? K : never;
}[ReturnedKeys<T>];

/** A value as the SDK returns it to its caller. */
export type Output<T> =
  T extends $Read<infer U>
    ? Output<U>
    : T extends Int64String
      ? number
      : T extends TimestampString
        ? Date
        : T extends DurationString
          ? string
          : T extends string
            ? string extends T
              ? string
              : Lowercase<T>
            : T extends readonly (infer Item)[]
              ? Output<Item>[]
              : T extends object
                ? string extends keyof T
                  ? { [key: string]: Output<T[string & keyof T]> }
                  : Simplify<
                      {
                        [K in PresentKeys<T> as CamelCase<K & string>]-?: Output<FieldOf<T, K>>;
                      } & {
                        [
                          K in Exclude<ReturnedKeys<T>, PresentKeys<T>> as CamelCase<K & string>
                        ]?: Output<FieldOf<T, K>>;
                      }
                    >
                : T;

/** The request body of an operation, as the SDK takes it. */
export type RequestBody<Op extends keyof operations> =
  NonNullable<operations[Op]["requestBody"]> extends { content: { "application/json": infer Body } }
    ? Input<Body>
    : never;

/** The query parameters of an operation, as the SDK takes them. */
export type QueryParams<Op extends keyof operations> = operations[Op] extends {
  parameters: { query?: infer Query };
}
  ? [NonNullable<Query>] extends [never]
    ? Record<string, never>
    : Input<NonNullable<Query>>
  : Record<string, never>;

/** The successful response of an operation, as the SDK returns it. */
export type ResponseOf<Op extends keyof operations> = operations[Op] extends {
  responses: { 200: { content: { "application/json": infer Body } } };
}
  ? Output<Body>
  : never;

/** An order; `redirectUrl` is where to send the customer when it requires action (3-D Secure). */
export type Order = ResponseOf<"GetOrder"> & { redirectUrl?: string };
export type OrderStatus = Order["status"];
export type Refund = ResponseOf<"GetRefund">;
export type Customer = ResponseOf<"GetCustomer">;
export type PaymentMethod = ResponseOf<"AttachPaymentMethod">;
export type WebhookEndpoint = ResponseOf<"CreateWebhookEndpoint">;
export type Event = ResponseOf<"GetEvent">;
export type EventDelivery = ResponseOf<"ListEventDeliveries">["deliveries"][number];
export type RoutingConfig = ResponseOf<"GetRoutingConfig">;
export type Processor = ResponseOf<"CreateProcessor">;
export type ProcessorAccount = ResponseOf<"CreateProcessorAccount">;
export type AvailableProcessor = ResponseOf<"ListAvailableProcessors">["processors"][number];
/** A processor's circuit breaker (the platform's, shared by every merchant). */
export type ProcessorHealth = NonNullable<AvailableProcessor["health"]>;
export type ApiKey = ResponseOf<"ListApiKeys">["apiKeys"][number];
export type CreatedApiKey = ResponseOf<"CreateApiKey">;
export type User = ResponseOf<"CreateUser">;
export type Session = ResponseOf<"CreateSession">;
export type AuditEntry = ResponseOf<"ListAuditEntries">["auditEntries"][number];
export type Token = ResponseOf<"CreateToken">;
export type Merchant = ResponseOf<"CreateMerchant">;
export type Health = ResponseOf<"GetHealth">;
