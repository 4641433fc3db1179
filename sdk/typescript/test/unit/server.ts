// A local HTTP server for the unit tests: it answers with the replies a test scripts, in order,
// and records every request it received.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Reply {
  readonly status?: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Milliseconds to wait before answering. */
  readonly delay?: number;
  /** Close the connection without answering. */
  readonly drop?: boolean;
}

export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export class ScriptedServer {
  readonly received: Received[] = [];
  readonly #replies: Reply[] = [];
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<ScriptedServer> {
    const server = createServer();
    const scripted = new ScriptedServer(server);
    server.on("request", (request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        scripted.received.push({
          method: request.method ?? "",
          url: request.url ?? "",
          headers: request.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        });
        const reply = scripted.#replies.shift() ?? { status: 500, body: { message: "unscripted" } };
        const answer = (): void => {
          if (reply.drop) {
            request.socket.destroy();
            return;
          }
          const text =
            typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body ?? {});
          response.writeHead(reply.status ?? 200, {
            "content-type": "application/json",
            ...reply.headers,
          });
          response.end(text);
        };
        if (reply.delay) setTimeout(answer, reply.delay);
        else answer();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return scripted;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  reply(...replies: Reply[]): void {
    this.#replies.push(...replies);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** A google.rpc.Status body as the API sends it. */
export function statusBody(
  code: number,
  reason: string,
  violations: readonly { field: string; reason: string; description: string }[] = [],
): unknown {
  const details: unknown[] = [
    {
      "@type": "type.googleapis.com/google.rpc.ErrorInfo",
      reason,
      domain: "payloops.dev",
      metadata: { request_id: "req_1" },
    },
  ];
  if (violations.length > 0) {
    details.push({
      "@type": "type.googleapis.com/google.rpc.BadRequest",
      field_violations: violations,
    });
  }
  return { code, message: `failed: ${reason}`, details };
}
