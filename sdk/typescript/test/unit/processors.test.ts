// The processors a merchant can route to, as the dashboard's Processors page lists them.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import PayLoops from "../../src/index.js";
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
});
