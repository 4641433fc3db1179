// The idiomatic layer over the wire format: camelCase both ways, int64 strings as numbers,
// timestamps as Dates, lower-case enums, metadata keys untouched, redirectUrl, pagination.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";

import PayLoops from "../../src/index.js";
import { ScriptedServer } from "./server.js";

const WIRE_ORDER = {
  id: "ord_1",
  amount: "4999",
  amount_received: "0",
  currency: "USD",
  status: "REQUIRES_ACTION",
  capture_method: "AUTOMATIC",
  metadata: { orderId: "ORD-123", order_ref: "A-1" },
  livemode: false,
  create_time: "2026-01-02T03:04:05.678Z",
  next_action: { redirect_url: "https://pay.example/3ds/1" },
  attempts: [],
};

describe("orders", () => {
  let server: ScriptedServer;
  let payloops: PayLoops;

  before(async () => {
    server = await ScriptedServer.start();
  });
  after(() => server.close());
  beforeEach(() => {
    server.received.length = 0;
    payloops = new PayLoops("sk_test_unit", { baseUrl: server.url, maxRetries: 0 });
  });

  it("sends camelCase as the wire's snake_case, keeping metadata keys as given", async () => {
    server.reply({ body: WIRE_ORDER });

    await payloops.orders.create({
      amount: 4999,
      currency: "USD",
      captureMethod: "manual",
      returnUrl: "https://shop.example/back",
      metadata: { orderId: "ORD-123", order_ref: "A-1" },
    });

    const [request] = server.received;
    assert.equal(request?.method, "POST");
    assert.equal(request?.url, "/v1/orders");
    assert.deepEqual(JSON.parse(request?.body ?? ""), {
      amount: "4999",
      currency: "USD",
      capture_method: "MANUAL",
      return_url: "https://shop.example/back",
      metadata: { orderId: "ORD-123", order_ref: "A-1" },
    });
    assert.equal(request?.headers["authorization"], "Bearer sk_test_unit");
  });

  it("returns camelCase, numbers, Dates and lower-case statuses, with redirectUrl", async () => {
    server.reply({ body: WIRE_ORDER });

    const order = await payloops.orders.pay("ord_1", {
      paymentMethod: { type: "card", token: "pm_card_3ds_required" },
    });

    assert.equal(server.received[0]?.url, "/v1/orders/ord_1:pay");
    assert.deepEqual(JSON.parse(server.received[0]?.body ?? ""), {
      payment_method: { type: "card", token: "pm_card_3ds_required" },
    });
    assert.equal(order.amount, 4999);
    assert.equal(order.amountReceived, 0);
    assert.equal(order.status, "requires_action");
    assert.equal(order.captureMethod, "automatic");
    assert.deepEqual(order.metadata, { orderId: "ORD-123", order_ref: "A-1" });
    assert.ok(order.createTime instanceof Date);
    assert.equal(order.createTime.toISOString(), "2026-01-02T03:04:05.678Z");
    assert.equal(order.nextAction?.redirectUrl, "https://pay.example/3ds/1");
    assert.equal(order.redirectUrl, "https://pay.example/3ds/1");
  });

  it("puts ids in the path, escaped", async () => {
    server.reply({ body: WIRE_ORDER });

    await payloops.orders.retrieve("ord/1?x");

    assert.equal(server.received[0]?.url, "/v1/orders/ord%2F1%3Fx");
    assert.equal(server.received[0]?.method, "GET");
  });

  it("iterates over every page of a list, and awaits the first", async () => {
    server.reply(
      { body: { orders: [WIRE_ORDER, { ...WIRE_ORDER, id: "ord_2" }], next_page_token: "p2" } },
      { body: { orders: [{ ...WIRE_ORDER, id: "ord_3" }], next_page_token: "" } },
      { body: { orders: [WIRE_ORDER], next_page_token: "p2" } },
    );

    const ids: string[] = [];
    for await (const order of payloops.orders.list({ status: "succeeded", pageSize: 2 })) {
      ids.push(order.id);
    }
    const first = await payloops.orders.list();

    assert.deepEqual(ids, ["ord_1", "ord_2", "ord_3"]);
    const urls = server.received.map((request) => new URL(request.url, server.url));
    assert.deepEqual(Object.fromEntries(urls[0]?.searchParams ?? []), {
      status: "SUCCEEDED",
      page_size: "2",
    });
    assert.deepEqual(Object.fromEntries(urls[1]?.searchParams ?? []), {
      status: "SUCCEEDED",
      page_size: "2",
      page_token: "p2",
    });
    assert.equal(first.orders.length, 1);
    assert.equal(first.nextPageToken, "p2");
  });

  it("sends Dates in a query as RFC 3339", async () => {
    server.reply({ body: { orders: [], next_page_token: "" } });

    await payloops.orders.list({ createdAfter: new Date("2026-01-01T00:00:00Z") });

    const query = new URL(server.received[0]?.url ?? "", server.url).searchParams;
    assert.equal(query.get("created_after"), "2026-01-01T00:00:00.000Z");
  });
});
