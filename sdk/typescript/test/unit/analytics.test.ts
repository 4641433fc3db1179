// analytics.payments: the window as RFC 3339 query parameters, enums upper-cased on the wire,
// and the buckets back as numbers and Dates.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import PayLoops from "../../src/index.js";
import { ScriptedServer } from "./server.js";

describe("analytics", () => {
  let server: ScriptedServer;

  before(async () => {
    server = await ScriptedServer.start();
  });
  after(() => server.close());

  it("asks for a window's buckets and answers them in the SDK's form", async () => {
    server.reply({
      body: {
        buckets: [
          {
            start_time: "2026-03-01T00:00:00Z",
            end_time: "2026-03-02T00:00:00Z",
            group: "sandbox",
            total_count: "4",
            succeeded_count: "3",
            failed_count: "1",
            success_rate: 0.75,
            volumes: [{ currency: "USD", amount: "5000", succeeded_amount: "3500", count: "4" }],
            latency_p50: "0.120s",
            latency_p95: "0.300s",
            failover_count: "1",
            failover_saved: [{ currency: "USD", amount: "2000" }],
          },
        ],
      },
    });
    const payloops = new PayLoops("sk_test_unit", { baseUrl: server.url, maxRetries: 0 });

    const figures = await payloops.analytics.payments({
      startTime: new Date("2026-03-01T00:00:00Z"),
      endTime: new Date("2026-03-08T00:00:00Z"),
      interval: "day",
      groupBy: "processor",
    });

    const url = new URL(server.received[0]?.url ?? "", "http://x");
    assert.equal(url.pathname, "/v1/analytics/payments");
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      start_time: "2026-03-01T00:00:00.000Z",
      end_time: "2026-03-08T00:00:00.000Z",
      interval: "DAY",
      group_by: "PROCESSOR",
    });
    const [bucket] = figures.buckets;
    assert.ok(bucket?.startTime instanceof Date);
    assert.equal(bucket?.totalCount, 4);
    assert.equal(bucket?.successRate, 0.75);
    assert.deepEqual(bucket?.volumes, [
      { currency: "USD", amount: 5000, succeededAmount: 3500, count: 4 },
    ]);
    assert.deepEqual(bucket?.failoverSaved, [{ currency: "USD", amount: 2000 }]);
    assert.equal(bucket?.latencyP50, "0.120s");
  });
});
