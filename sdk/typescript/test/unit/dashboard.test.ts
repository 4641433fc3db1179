// What the dashboard calls besides the basics: the Payments page's filters and search, an
// endpoint's deliveries page by page, a test event, and sessions kept in a cookie.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";

import PayLoops from "../../src/index.js";
import { ScriptedServer } from "./server.js";

const WIRE_DELIVERY = {
  id: "evd_1",
  event: "evt_1",
  event_type: "webhook_endpoint.test",
  webhook_endpoint: "we_1",
  status: "SUCCEEDED",
  create_time: "2026-01-02T03:04:05Z",
  attempts: [
    { attempt_number: 1, create_time: "2026-01-02T03:04:05Z", http_status: 200, latency: "0.034s", error: "" },
  ],
};

describe("dashboard calls", () => {
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

  it("lists orders by amount range, failure code and search", async () => {
    server.reply({ body: { orders: [], next_page_token: "" } });

    await payloops.orders.list({
      currency: "EUR",
      amountMin: 1000,
      amountMax: 5000,
      failureCode: "card_declined",
      query: "pi_123",
    });

    const query = new URL(server.received[0]?.url ?? "", server.url).searchParams;
    assert.deepEqual(Object.fromEntries(query), {
      currency: "EUR",
      amount_min: "1000",
      amount_max: "5000",
      failure_code: "card_declined",
      query: "pi_123",
    });
  });

  it("pages through an endpoint's deliveries, with their attempts", async () => {
    server.reply(
      { body: { deliveries: [WIRE_DELIVERY], next_page_token: "p2" } },
      { body: { deliveries: [{ ...WIRE_DELIVERY, id: "evd_2" }], next_page_token: "" } },
    );

    const seen = [];
    for await (const delivery of payloops.webhookEndpoints.deliveries.list("we_1", {
      pageSize: 1,
    })) {
      seen.push(delivery);
    }

    assert.deepEqual(
      seen.map((delivery) => delivery.id),
      ["evd_1", "evd_2"],
    );
    assert.equal(seen[0]?.eventType, "webhook_endpoint.test");
    assert.equal(seen[0]?.attempts?.[0]?.httpStatus, 200);
    const urls = server.received.map((request) => new URL(request.url, server.url));
    assert.equal(urls[0]?.pathname, "/v1/webhook_endpoints/we_1/deliveries");
    assert.equal(urls[1]?.searchParams.get("page_token"), "p2");
  });

  it("sends a test event to an endpoint", async () => {
    server.reply({ body: { ...WIRE_DELIVERY, status: "PENDING", attempts: [] } });

    const delivery = await payloops.webhookEndpoints.sendTestEvent("we_1");

    assert.equal(server.received[0]?.method, "POST");
    assert.equal(server.received[0]?.url, "/v1/webhook_endpoints/we_1:send_test_event");
    assert.equal(delivery.status, "pending");
    assert.equal(delivery.eventType, "webhook_endpoint.test");
  });

  it("refreshes and logs out with the cookie's token when given none", async () => {
    server.reply({ body: {} }, { body: {} });

    await payloops.sessions.refresh();
    await payloops.sessions.logout();

    assert.deepEqual(
      server.received.map((request) => [request.url, JSON.parse(request.body)]),
      [
        ["/v1/sessions:refresh", {}],
        ["/v1/sessions:logout", {}],
      ],
    );
  });
});
