// Webhook signature verification, with signatures made as the platform makes them.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";

import PayLoops, { constructEvent, SignatureVerificationError } from "../../src/index.js";

const SECRET = "whsec_unit";
const NOW = new Date("2026-03-04T05:06:07Z");
const T = Math.floor(NOW.getTime() / 1000);
const BODY = JSON.stringify({
  id: "evt_1",
  type: "order.succeeded",
  create_time: "2026-03-04T05:06:00Z",
  livemode: false,
  object: { id: "ord_1", amount: "4999", status: "SUCCEEDED", metadata: { order_ref: "A-1" } },
});

function sign(secret: string, timestamp: number, body: string): string {
  return createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
}

const header = (...signatures: string[]): string =>
  [`t=${T}`, ...signatures.map((signature) => `v1=${signature}`)].join(",");

describe("webhooks.constructEvent", () => {
  it("returns the event of a valid signature, in the SDK's form", async () => {
    const event = await new PayLoops("").webhooks.constructEvent(
      BODY,
      header(sign(SECRET, T, BODY)),
      SECRET,
      { now: NOW },
    );

    assert.equal(event.id, "evt_1");
    assert.ok(event.createTime instanceof Date);
    assert.deepEqual(event.object, {
      id: "ord_1",
      amount: 4999,
      status: "succeeded",
      metadata: { order_ref: "A-1" },
    });
  });

  it("takes the raw body as bytes too", async () => {
    const event = await constructEvent(
      new TextEncoder().encode(BODY),
      header(sign(SECRET, T, BODY)),
      SECRET,
      { now: NOW },
    );
    assert.equal(event.type, "order.succeeded");
  });

  it("accepts any of several signatures (a rotated secret's grace period)", async () => {
    const event = await constructEvent(
      BODY,
      header(sign("whsec_new", T, BODY), sign(SECRET, T, BODY)),
      SECRET,
      { now: NOW },
    );
    assert.equal(event.id, "evt_1");
  });

  it("rejects a tampered body, a wrong secret and a moved timestamp", async () => {
    const good = sign(SECRET, T, BODY);
    const cases: [string, string, string][] = [
      [BODY.replace("4999", "1"), header(good), SECRET],
      [BODY, header(good), "whsec_other"],
      [BODY, `t=${T + 1},v1=${good}`, SECRET],
      [BODY, header("zz" + good.slice(2)), SECRET],
      [BODY, header(good.toUpperCase().slice(0, 10)), SECRET],
    ];
    for (const [body, signatureHeader, secret] of cases) {
      await assert.rejects(
        constructEvent(body, signatureHeader, secret, { now: NOW }),
        SignatureVerificationError,
      );
    }
  });

  it("enforces the tolerance window both ways, and takes a custom one", async () => {
    const old = T - 301;
    const signedOld = `t=${old},v1=${sign(SECRET, old, BODY)}`;
    const future = T + 301;
    const signedFuture = `t=${future},v1=${sign(SECRET, future, BODY)}`;

    await assert.rejects(
      constructEvent(BODY, signedOld, SECRET, { now: NOW }),
      /301s away from now, more than the 300s tolerance/,
    );
    await assert.rejects(
      constructEvent(BODY, signedFuture, SECRET, { now: NOW }),
      SignatureVerificationError,
    );
    const event = await constructEvent(BODY, signedOld, SECRET, { now: NOW, tolerance: 600 });
    assert.equal(event.id, "evt_1");
  });

  it("rejects a missing or malformed header and an empty secret", async () => {
    const good = sign(SECRET, T, BODY);
    for (const [signatureHeader, message] of [
      [undefined, /missing/],
      ["", /missing/],
      [`v1=${good}`, /no timestamp/],
      [`t=${T}`, /no v1 signature/],
      [`t=abc,v1=${good}`, /not a number/],
    ] as const) {
      await assert.rejects(constructEvent(BODY, signatureHeader, SECRET, { now: NOW }), message);
    }
    await assert.rejects(
      constructEvent(BODY, header(good), "", { now: NOW }),
      /no webhook signing secret/,
    );
  });

  it("rejects a signed payload that is not a JSON object", async () => {
    await assert.rejects(
      constructEvent("[1]", header(sign(SECRET, T, "[1]")), SECRET, { now: NOW }),
      /not a JSON object/,
    );
  });
});
