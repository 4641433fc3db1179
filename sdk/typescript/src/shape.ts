// What the SDK knows at run time about a value of the API (generated into generated/shapes.ts
// from the OpenAPI document): how to turn it into its idiomatic form and back.
export type Shape =
  | "plain" // strings, booleans, numbers, durations: unchanged
  | "int64" // a JSON string on the wire, a number in the SDK
  | "timestamp" // RFC 3339 on the wire, a Date in the SDK
  | "enum" // UPPER_CASE on the wire, lower_case in the SDK
  | "raw" // a free-form object (google.protobuf.Struct): passed through untouched
  | { readonly ref: string } // a named schema
  | { readonly object: Readonly<Record<string, Shape>> } // an inline message
  | { readonly array: Shape }
  | { readonly map: Shape }; // keys are the caller's (metadata): never renamed

export interface OperationShape {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  readonly path: string;
  readonly query: Readonly<Record<string, Shape>>;
  readonly body: Shape | null;
  readonly response: Shape;
}
