// How error responses become the SDK's error classes.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import PayLoops, {
  APIError,
  AuthenticationError,
  IdempotencyError,
  InternalServerError,
  InvalidRequestError,
  NotFoundError,
  PayLoopsError,
  PermissionDeniedError,
} from "../../src/index.js";
import { type Reply, ScriptedServer, statusBody } from "./server.js";

describe("errors", () => {
  let server: ScriptedServer;
  let payloops: PayLoops;

  before(async () => {
    server = await ScriptedServer.start();
    payloops = new PayLoops("sk_test_unit", { baseUrl: server.url, maxRetries: 0 });
  });
  after(() => server.close());

  async function errorFor(reply: Reply): Promise<APIError> {
    server.reply(reply);
    try {
      await payloops.orders.create({ amount: 1, currency: "USD" });
    } catch (error) {
      assert.ok(error instanceof APIError);
      return error;
    }
    throw new Error("no error");
  }

  it("gives a 400 its reason and field violations", async () => {
    const violation = {
      field: "amount",
      reason: "AMOUNT_NOT_POSITIVE",
      description: "must be > 0",
    };
    const error = await errorFor({
      status: 400,
      body: statusBody(3, "INVALID_ARGUMENT", [violation]),
      headers: { "x-correlation-id": "cid-1" },
    });

    assert.ok(error instanceof InvalidRequestError);
    assert.ok(error instanceof PayLoopsError && error instanceof Error);
    assert.equal(error.status, 400);
    assert.equal(error.code, 3);
    assert.equal(error.reason, "INVALID_ARGUMENT");
    assert.deepEqual(error.fieldViolations, [violation]);
    assert.equal(error.correlationId, "cid-1");
    assert.equal(error.requestId, "req_1");
    assert.equal(error.message, "failed: INVALID_ARGUMENT");
  });

  it("maps each status family to its class", async () => {
    const cases: [number, string, new (...args: never[]) => APIError][] = [
      [400, "IDEMPOTENCY_KEY_REUSED", IdempotencyError],
      [401, "UNAUTHENTICATED", AuthenticationError],
      [403, "PERMISSION_DENIED", PermissionDeniedError],
      [404, "ORDER_NOT_FOUND", NotFoundError],
      [500, "INTERNAL", InternalServerError],
    ];
    for (const [status, reason, errorClass] of cases) {
      const error = await errorFor({ status, body: statusBody(2, reason) });
      assert.ok(error instanceof errorClass, `${status} ${reason}: ${error.name}`);
      assert.equal(error.name, errorClass.name);
      assert.equal(error.reason, reason);
    }
  });

  it("reads the correlation id an internal error carries in its metadata", async () => {
    const error = await errorFor({
      status: 500,
      body: {
        code: 13,
        message: "internal error; quote correlation id c-9",
        details: [
          {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            reason: "INTERNAL",
            metadata: { correlationId: "c-9" },
          },
        ],
      },
    });

    assert.equal(error.correlationId, "c-9");
  });

  it("survives a body that is not a JSON error", async () => {
    const error = await errorFor({ status: 502, body: "<html>bad gateway</html>" });

    assert.ok(error instanceof InternalServerError);
    assert.equal(error.reason, undefined);
    assert.match(error.message, /HTTP 502 with a body that is not a JSON error/);
  });
});
