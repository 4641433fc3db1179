// The processors a merchant can route to, as the dashboard's Processors page lists them.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import PayLoops, { type ProcessorHealth } from "../../src/index.js";
import { ScriptedServer } from "./server.js";

describe("available processors", () => {
  let server: ScriptedServer;

  before(async () => {
    server = await ScriptedServer.start();
  });
  after(() => server.close());

  it("lists them with their credential fields and whose account is used", async () => {
    server.reply({
      body: {
        processors: [
          {
            name: "stripe",
            capabilities: { currencies: ["EUR"], credential_fields: ["secret_key", "webhook_secret"], test_only: false },
            account_source: "PLATFORM",
            processor_account: "",
          },
        ],
        livemode: false,
      },
    });
    const payloops = new PayLoops("sk_test_unit", { baseUrl: server.url, maxRetries: 0 });

    const listed = await payloops.processorAccounts.availableProcessors();

    assert.equal(server.received[0]?.method, "GET");
    assert.equal(server.received[0]?.url, "/v1/available_processors");
    assert.equal(listed.livemode, false);
    assert.equal(listed.processors[0]?.accountSource, "platform");
    assert.deepEqual(listed.processors[0]?.capabilities?.credentialFields, ["secret_key", "webhook_secret"]);
  });

  it("gives each one's circuit breaker, with its times as Dates", async () => {
    server.reply({
      body: {
        processors: [
          {
            name: "down",
            account_source: "NOT_NEEDED",
            processor_account: "",
            health: {
              state: "OPEN",
              consecutive_failures: 5,
              open_time: "2026-12-02T16:00:00Z",
              retry_time: "2026-12-02T16:00:05Z",
              probe_ready: false,
              update_time: "2026-12-02T16:00:00Z",
            },
          },
          {
            name: "up",
            account_source: "NOT_NEEDED",
            processor_account: "",
            health: { state: "CLOSED", consecutive_failures: 0, probe_ready: false },
          },
        ],
        livemode: false,
      },
    });
    const payloops = new PayLoops("sk_test_unit", { baseUrl: server.url, maxRetries: 0 });

    const [down, up] = (await payloops.processorAccounts.availableProcessors()).processors;

    const health: ProcessorHealth | undefined = down?.health;
    assert.equal(health?.state, "open");
    assert.equal(health?.consecutiveFailures, 5);
    assert.equal(health?.openTime?.toISOString(), "2026-12-02T16:00:00.000Z");
    assert.equal(health?.retryTime?.toISOString(), "2026-12-02T16:00:05.000Z");
    assert.equal(health?.probeReady, false);
    assert.equal(up?.health?.state, "closed");
    assert.equal(up?.health?.openTime, undefined);
  });
});
