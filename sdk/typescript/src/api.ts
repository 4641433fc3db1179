// Calls one operation of the API by its OpenAPI operationId: fills the path template, turns the
// caller's idiomatic arguments into the wire format and the response back (convert.ts).
import { fromWire, toSnakeCase, toWire } from "./convert.js";
import { OPERATIONS, type OperationId } from "./generated/shapes.js";
import type { RequestOptions, Transport } from "./http.js";

export interface CallArguments {
  /** Values of the path template's variables, by their name in the template. */
  readonly path?: Readonly<Record<string, string>>;
  readonly query?: object | undefined;
  readonly body?: object | undefined;
}

function fillPath(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined || value === "") {
      throw new TypeError(`${name} is required (it is part of the path ${template})`);
    }
    return encodeURIComponent(value);
  });
}

export class Api {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  async call(
    operationId: OperationId,
    args: CallArguments = {},
    options?: RequestOptions,
  ): Promise<unknown> {
    const operation = OPERATIONS[operationId];
    const query: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(args.query ?? {})) {
      const name = key in operation.query ? key : toSnakeCase(key);
      query[name] = toWire(value, (operation.query as Record<string, never>)[name] ?? "plain");
    }
    const body = operation.body === null ? undefined : toWire(args.body ?? {}, operation.body);
    const reply = await this.#transport.request(
      { method: operation.method, path: fillPath(operation.path, args.path ?? {}), query, body },
      options,
    );
    return fromWire(reply, operation.response);
  }
}
