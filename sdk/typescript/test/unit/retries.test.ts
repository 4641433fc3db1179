// Retries, their Idempotency-Key, timeouts and AbortSignal, against a local server.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";

import PayLoops, {
  AbortError,
  APIConnectionError,
  ConflictError,
  InternalServerError,
  RateLimitError,
  TimeoutError,
} from "../../src/index.js";
import { retryDelay } from "../../src/http.js";
import { ScriptedServer, statusBody } from "./server.js";

const ORDER = { id: "ord_1", amount: "100", currency: "USD", status: "SUCCEEDED" };

describe("retries", () => {
  let server: ScriptedServer;

  before(async () => {
    server = await ScriptedServer.start();
  });
  after(() => server.close());
  beforeEach(() => {
    server.received.length = 0;
  });

  const client = (maxRetries = 2, timeout = 10_000): PayLoops =>
    new PayLoops("sk_test_unit", { baseUrl: server.url, maxRetries, timeout });

  const idempotencyKeys = (): unknown[] =>
    server.received.map((request) => request.headers["idempotency-key"]);

  it("retries a 503 with the same Idempotency-Key", async () => {
    server.reply({ status: 503, body: statusBody(14, "UNAVAILABLE") }, { body: ORDER });

    const order = await client().orders.create({ amount: 100, currency: "USD" });

    assert.equal(order.id, "ord_1");
    const keys = idempotencyKeys();
    assert.equal(keys.length, 2);
    assert.match(String(keys[0]), /^[0-9a-f-]{36}$/);
    assert.equal(keys[1], keys[0]);
    assert.equal(server.received[1]?.body, server.received[0]?.body);
  });

  it("retries a dropped connection, 429 and 409 IDEMPOTENCY_KEY_IN_USE with one key", async () => {
    server.reply(
      { drop: true },
      { status: 429, body: statusBody(8, "RATE_LIMITED") },
      { status: 409, body: statusBody(10, "IDEMPOTENCY_KEY_IN_USE") },
      { body: ORDER },
    );

    await client(3).orders.capture("ord_1");

    assert.equal(new Set(idempotencyKeys()).size, 1);
    assert.equal(server.received.length, 4);
  });

  it("sends no Authorization without a key", async () => {
    server.reply({ body: { status: "ok" } });

    await new PayLoops("", { baseUrl: server.url }).health.retrieve();

    assert.equal(server.received[0]?.headers["authorization"], undefined);
  });

  it("uses the caller's Idempotency-Key", async () => {
    server.reply({ body: ORDER });

    await client().orders.cancel("ord_1", {}, { idempotencyKey: "cancel-ord_1" });

    assert.deepEqual(idempotencyKeys(), ["cancel-ord_1"]);
  });

  it("gives every call its own key, and none to a read", async () => {
    server.reply({ body: ORDER }, { body: ORDER }, { body: ORDER });
    const payloops = client();

    await payloops.orders.create({ amount: 100, currency: "USD" });
    await payloops.orders.create({ amount: 100, currency: "USD" });
    await payloops.orders.retrieve("ord_1");

    const [first, second, read] = idempotencyKeys();
    assert.notEqual(first, second);
    assert.equal(read, undefined);
  });

  it("never retries a response that may mean something else happened", async () => {
    for (const [status, reason] of [
      [500, "INTERNAL"],
      [409, "ORDER_NOT_CAPTURABLE"],
      [502, "BAD_GATEWAY"],
    ] as const) {
      server.received.length = 0;
      server.reply({ status, body: statusBody(13, reason) });

      await assert.rejects(client().orders.capture("ord_1"), (error: unknown) => {
        assert.ok(
          status === 409 ? error instanceof ConflictError : error instanceof InternalServerError,
        );
        return true;
      });
      assert.equal(server.received.length, 1, `${status} ${reason} was retried`);
    }
  });

  it("stops after maxRetries and throws the last error", async () => {
    server.reply(
      { status: 429, body: statusBody(8, "RATE_LIMITED") },
      { status: 429, body: statusBody(8, "RATE_LIMITED") },
    );

    await assert.rejects(client(1).orders.retrieve("ord_1"), RateLimitError);
    assert.equal(server.received.length, 2);
  });

  it("gives up a try after its timeout, as a TimeoutError", async () => {
    server.reply({ delay: 2_000, body: ORDER });

    await assert.rejects(
      client(0).orders.retrieve("ord_1", { timeout: 100 }),
      (error: unknown) => error instanceof TimeoutError && error instanceof APIConnectionError,
    );
  });

  it("retries a try that timed out, with the same key", async () => {
    server.reply({ delay: 2_000, body: ORDER }, { body: ORDER });

    const order = await client(1, 100).orders.pay("ord_1", {
      paymentMethod: { type: "card", token: "pm_card_visa" },
    });

    assert.equal(order.status, "succeeded");
    assert.equal(new Set(idempotencyKeys()).size, 1);
  });

  it("ends a call when its AbortSignal fires, without retrying", async () => {
    server.reply({ delay: 2_000, body: ORDER }, { body: ORDER });
    const controller = new AbortController();

    const call = client(3).orders.retrieve("ord_1", { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);

    await assert.rejects(call, AbortError);
    assert.equal(server.received.length, 1);
  });

  it("does not start a call whose signal has already fired", async () => {
    const controller = new AbortController();
    controller.abort();

    await assert.rejects(
      client().orders.retrieve("ord_1", { signal: controller.signal }),
      AbortError,
    );
  });

  it("backs off exponentially, with jitter in the upper half, up to a ceiling", () => {
    assert.equal(
      retryDelay(0, () => 0),
      250,
    );
    assert.equal(
      retryDelay(0, () => 1),
      500,
    );
    assert.equal(
      retryDelay(1, () => 1),
      1000,
    );
    assert.equal(
      retryDelay(3, () => 0.5),
      3000,
    );
    assert.equal(
      retryDelay(10, () => 1),
      8000,
    );
  });

  it("reports an unreachable API as an APIConnectionError", async () => {
    const closed = await ScriptedServer.start();
    const url = closed.url;
    await closed.close();

    await assert.rejects(
      new PayLoops("sk_test_unit", { baseUrl: url, maxRetries: 0 }).health.retrieve(),
      (error: unknown) => error instanceof APIConnectionError && !(error instanceof TimeoutError),
    );
  });
});
