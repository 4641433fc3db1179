// The API's JSON strings that stand for something else (protobuf's JSON mapping): int64 amounts,
// RFC 3339 timestamps and "1.5s" durations. Branded so the idiomatic types (types.ts) can tell
// them apart from other strings; on the wire they are plain strings.
declare const wire: unique symbol;

export type Int64String = string & { readonly [wire]: "int64" };
export type TimestampString = string & { readonly [wire]: "timestamp" };
export type DurationString = string & { readonly [wire]: "duration" };
