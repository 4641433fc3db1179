// The SDK against a real PayLoops mesh (Envoy, edge, Temporal, worker, sandbox, PostgreSQL),
// run by tests/sdk_typescript with the mesh's address and keys in the environment.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, it } from "node:test";

import PayLoops, {
  AuthenticationError,
  type Event,
  InvalidRequestError,
  NotFoundError,
  type Order,
} from "@payloops/sdk";

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: these tests run from tests/sdk_typescript`);
  return value;
}

const API_URL = required("PAYLOOPS_API_URL");
const ADMIN_KEY = required("PAYLOOPS_ADMIN_API_KEY");
const RECEIVER_PORT = Number(required("PAYLOOPS_TEST_RECEIVER_PORT"));
const PASSWORD = "correct horse battery staple 7";
// How long to wait for what the platform does in the background (a slow, shared machine).
const SETTLE_MS = 60_000;

const IN_FLIGHT = new Set(["processing", "requires_payment_method"]);

async function settled(payloops: PayLoops, order: Order): Promise<Order> {
  const deadline = Date.now() + SETTLE_MS;
  let current = order;
  while (IN_FLIGHT.has(current.status) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    current = await payloops.orders.retrieve(current.id);
  }
  return current;
}

const unique = (label: string): string => `${label}-${Math.random().toString(36).slice(2, 10)}`;

describe("the SDK against the mesh", () => {
  let merchantId: string;
  let payloops: PayLoops;

  before(async () => {
    const admin = new PayLoops(ADMIN_KEY, { baseUrl: API_URL });
    const merchant = await admin.merchants.create({ merchant: { name: unique("ts sdk") } });
    const key = merchant.apiKeys.find((apiKey) => apiKey.kind === "secret" && !apiKey.livemode);
    assert.ok(key?.secret.startsWith("sk_test_"), "the merchant has a test secret key");
    assert.ok(key);
    merchantId = merchant.id;
    payloops = new PayLoops(key.secret, { baseUrl: API_URL });
  });

  it("creates, pays and reads an order, and lists every order over pages", async () => {
    const created = await payloops.orders.create({
      amount: 4999,
      currency: "USD",
      description: "ts sdk",
      metadata: { orderId: "ORD-123", order_ref: "A-1" },
    });
    assert.equal(created.status, "requires_payment_method");
    assert.equal(created.amount, 4999);
    assert.equal(created.amountReceived, 0);
    assert.ok(created.createTime instanceof Date);
    assert.deepEqual(created.metadata, { orderId: "ORD-123", order_ref: "A-1" });

    const paid = await settled(
      payloops,
      await payloops.orders.pay(created.id, {
        paymentMethod: { type: "card", token: "pm_card_visa" },
      }),
    );
    assert.equal(paid.status, "succeeded");
    assert.equal(paid.amountReceived, 4999);
    assert.equal(paid.attempts[0]?.processor, "sandbox");
    assert.equal(paid.attempts[0]?.outcome, "succeeded");
    assert.equal(paid.redirectUrl, undefined);

    await payloops.orders.create({ amount: 100, currency: "EUR" });
    await payloops.orders.create({ amount: 200, currency: "EUR" });
    const ids: string[] = [];
    for await (const order of payloops.orders.list({ pageSize: 1 })) ids.push(order.id);
    assert.equal(ids.length, 3);
    assert.equal(ids.at(-1), created.id);
    const first = await payloops.orders.list({ pageSize: 2 });
    assert.equal(first.orders.length, 2);
    assert.ok(first.nextPageToken);
  });

  it("asks for 3-D Secure with a redirectUrl", async () => {
    const order = await payloops.orders.create({
      amount: 3000,
      currency: "USD",
      returnUrl: "https://shop.example/back",
    });
    const payment = await settled(
      payloops,
      await payloops.orders.pay(order.id, {
        paymentMethod: { type: "card", token: "pm_card_3ds_required" },
      }),
    );
    assert.equal(payment.status, "requires_action");
    assert.match(payment.redirectUrl ?? "", /^http/);
    assert.equal(payment.redirectUrl, payment.nextAction?.redirectUrl);
  });

  it("captures part of an authorization, refunds it, and cancels another", async () => {
    const order = await payloops.orders.create({
      amount: 5000,
      currency: "USD",
      captureMethod: "manual",
    });
    const authorized = await settled(
      payloops,
      await payloops.orders.pay(order.id, {
        paymentMethod: { type: "card", token: "pm_card_visa" },
      }),
    );
    assert.equal(authorized.status, "requires_capture");
    assert.equal(authorized.amountCapturable, 5000);

    const captured = await payloops.orders.capture(order.id, { amount: 4000 });
    assert.equal(captured.status, "succeeded");
    assert.equal(captured.amountReceived, 4000);

    const refund = await payloops.refunds.create(order.id, {
      amount: 1500,
      reason: "requested_by_customer",
    });
    assert.equal(refund.amount, 1500);
    assert.equal((await payloops.refunds.retrieve(refund.id)).id, refund.id);
    const refunds = await payloops.refunds.list(order.id);
    assert.deepEqual(
      refunds.refunds.map((r) => r.id),
      [refund.id],
    );

    const unpaid = await payloops.orders.create({ amount: 700, currency: "USD" });
    const canceled = await payloops.orders.cancel(unpaid.id);
    assert.equal(canceled.status, "canceled");
  });

  it("throws errors with their reason, status, field violations and correlation id", async () => {
    await assert.rejects(payloops.orders.retrieve("ord_doesnotexist"), (error: unknown) => {
      assert.ok(error instanceof NotFoundError);
      assert.equal(error.status, 404);
      assert.equal(error.reason, "ORDER_NOT_FOUND");
      assert.ok(error.correlationId);
      return true;
    });
    await assert.rejects(
      payloops.orders.create({ amount: -1, currency: "USD" }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidRequestError);
        assert.deepEqual(
          error.fieldViolations.map((v) => [v.field, v.reason]),
          [["amount", "AMOUNT_NOT_POSITIVE"]],
        );
        return true;
      },
    );
    await assert.rejects(
      new PayLoops("sk_test_not_a_real_key", { baseUrl: API_URL }).orders.create({
        amount: 1,
        currency: "USD",
      }),
      (error: unknown) => error instanceof AuthenticationError && error.status === 401,
    );
  });

  it("replays a create with the same Idempotency-Key", async () => {
    const options = { idempotencyKey: unique("create") };
    const first = await payloops.orders.create({ amount: 900, currency: "USD" }, options);
    const again = await payloops.orders.create({ amount: 900, currency: "USD" }, options);
    assert.equal(again.id, first.id);
  });

  it("tokenizes a card with a publishable key and saves it for a customer", async () => {
    const publishable = await payloops.apiKeys.create({ name: "browser", kind: "publishable" });
    assert.ok(publishable.secret.startsWith("pk_test_"));
    const token = await new PayLoops(publishable.secret, { baseUrl: API_URL }).tokens.create({
      card: { number: "4242 4242 4242 4242", expMonth: 12, expYear: 2040, cvc: "123" },
    });
    assert.match(token.id, /^pm_/);

    const customer = await payloops.customers.create({
      email: "ada@example.com",
      name: "Ada",
      metadata: { crmId: "C-1" },
    });
    assert.deepEqual(customer.metadata, { crmId: "C-1" });
    const saved = await payloops.customers.paymentMethods.attach(customer.id, {
      paymentMethod: token.id,
    });
    assert.equal(saved.last4, "4242");
    const methods = await payloops.customers.paymentMethods.list(customer.id);
    assert.deepEqual(
      methods.paymentMethods.map((m) => m.id),
      [saved.id],
    );
    await payloops.customers.paymentMethods.detach(customer.id, saved.id);
    assert.equal(
      (await payloops.customers.paymentMethods.list(customer.id)).paymentMethods.length,
      0,
    );

    const renamed = await payloops.customers.update(customer.id, { name: "Ada L." });
    assert.equal(renamed.name, "Ada L.");
    assert.equal((await payloops.customers.retrieve(customer.id)).email, "ada@example.com");
    const listed: string[] = [];
    for await (const each of payloops.customers.list()) listed.push(each.id);
    assert.deepEqual(listed, [customer.id]);
    await payloops.customers.delete(customer.id);
    await assert.rejects(payloops.customers.retrieve(customer.id), NotFoundError);
  });

  it("manages API keys, reads routing, processors and the audit log", async () => {
    const made = await payloops.apiKeys.create({ name: "ci" });
    assert.ok(made.secret.startsWith("sk_test_"));
    const rolled = await payloops.apiKeys.roll(made.id, { overlap: "60s" });
    assert.notEqual(rolled.secret, made.secret);
    const revoked = await payloops.apiKeys.revoke(made.id);
    assert.ok(revoked.revokeTime instanceof Date);
    const keys: string[] = [];
    for await (const key of payloops.apiKeys.list()) keys.push(key.id);
    assert.ok(keys.includes(made.id));

    const routing = await payloops.routing.retrieve();
    const updated = await payloops.routing.update({ ...routing, maxAttempts: 2 });
    assert.equal(updated.maxAttempts, 2);
    assert.equal(updated.version, routing.version + 1);

    const processors = await new PayLoops(ADMIN_KEY, { baseUrl: API_URL }).processors.list();
    assert.ok(processors.processors.some((p) => p.name === "sandbox"));
    const accounts = await payloops.processorAccounts.list();
    assert.ok(Array.isArray(accounts.processorAccounts));

    const actions: string[] = [];
    for await (const entry of payloops.auditLog.list({ pageSize: 2 })) actions.push(entry.action);
    assert.ok(actions.length >= 3, actions.join(","));
    assert.equal((await new PayLoops("", { baseUrl: API_URL }).health.retrieve()).status, "ok");
  });

  it("lists routing versions, rolls back, simulates and replays a draft", async () => {
    const onlyB = { rules: [{ name: "b", failover: { processors: ["sandbox-b"] } }] };
    const first = await payloops.routing.update(onlyB);
    await payloops.routing.update({ rules: [{ name: "c", failover: { processors: ["sandbox"] } }] });
    const versions: number[] = [];
    for await (const version of payloops.routing.versions.list({ pageSize: 1 })) {
      versions.push(version.version);
    }
    assert.deepEqual(versions.slice(0, 2), [first.version + 1, first.version]);
    assert.deepEqual((await payloops.routing.versions.retrieve(first.version)).rules, first.rules);
    const rolled = await payloops.routing.rollback(first.version, { idempotencyKey: unique("rb") });
    assert.equal(rolled.version, first.version + 2);

    const simulated = await payloops.routing.simulate({
      payment: { amount: 2500, currency: "EUR", cardNetwork: "visa", metadata: { plan: "pro" } },
    });
    assert.equal(simulated.rule, "b");
    assert.equal(simulated.configVersion, rolled.version);
    assert.deepEqual(
      simulated.candidates.map((c) => [c.processor, c.decision]),
      [["sandbox-b", "candidate"]],
    );
    await assert.rejects(
      payloops.routing.simulate({ payment: { amount: 1, currency: "EUR" }, routingConfig: {} }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidRequestError);
        assert.deepEqual(
          error.fieldViolations.map((v) => [v.field, v.reason]),
          [["rules", "RULES_EMPTY"]],
        );
        return true;
      },
    );
    const whatIf = await payloops.routing.whatIf({ routingConfig: onlyB, days: 30 });
    assert.equal(whatIf.truncated, false);
    assert.ok(whatIf.payments >= 1, "the earlier tests' payments are replayed");
  });

  it("signs in a dashboard user, who manages users", async () => {
    const admin = new PayLoops(ADMIN_KEY, { baseUrl: API_URL });
    const email = `${unique("owner")}@example.com`;
    await admin.users.create({
      merchant: merchantId,
      user: { email, role: "owner" },
      password: PASSWORD,
    });

    const signIn = new PayLoops("", { baseUrl: API_URL });
    const session = await signIn.sessions.create({ email, password: PASSWORD });
    assert.ok(session.expireTime instanceof Date);
    const dashboard = new PayLoops(session.accessToken, { baseUrl: API_URL });
    const colleague = await dashboard.users.create({
      user: { email: `${unique("dev")}@example.com`, role: "developer" },
      password: PASSWORD,
    });
    const promoted = await dashboard.users.setRole(colleague.id, { role: "viewer" });
    assert.equal(promoted.role, "viewer");
    const users: string[] = [];
    for await (const user of dashboard.users.list()) users.push(user.email);
    assert.ok(users.includes(email));
    await dashboard.users.remove(colleague.id);

    const refreshed = await signIn.sessions.refresh({ refreshToken: session.refreshToken });
    await signIn.sessions.logout({ refreshToken: refreshed.refreshToken });
    assert.ok((await signIn.sessions.jwks()).keys.length > 0);
  });

  describe("webhooks", () => {
    let receiver: Server;
    const deliveries: { body: string; signature: string }[] = [];

    before(async () => {
      receiver = createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on("data", (chunk: Buffer) => chunks.push(chunk));
        request.on("end", () => {
          deliveries.push({
            body: Buffer.concat(chunks).toString("utf8"),
            signature: String(request.headers["payloops-signature"] ?? ""),
          });
          response.end("ok");
        });
      });
      await new Promise<void>((resolve) => receiver.listen(RECEIVER_PORT, "127.0.0.1", resolve));
    });
    after(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

    async function delivered(count: number): Promise<void> {
      const deadline = Date.now() + SETTLE_MS;
      while (deliveries.length < count && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.ok(deliveries.length >= count, `${deliveries.length} deliveries, not ${count}`);
    }

    it("delivers signed events that constructEvent verifies, lists, redelivers", async () => {
      const endpoint = await payloops.webhookEndpoints.create({
        url: `http://127.0.0.1:${RECEIVER_PORT}/hooks`,
        enabledEvents: ["order.succeeded"],
      });
      assert.ok(endpoint.secret.startsWith("whsec_"));

      const order = await payloops.orders.create({ amount: 1234, currency: "USD" });
      await settled(
        payloops,
        await payloops.orders.pay(order.id, {
          paymentMethod: { type: "card", token: "pm_card_visa" },
        }),
      );
      await delivered(1);

      const first = deliveries[0];
      assert.ok(first);
      const event: Event = await payloops.webhooks.constructEvent(
        first.body,
        first.signature,
        endpoint.secret,
      );
      assert.equal(event.type, "order.succeeded");
      assert.equal((event.object as { id?: string }).id, order.id);
      await assert.rejects(
        payloops.webhooks.constructEvent(first.body + " ", first.signature, endpoint.secret),
      );

      assert.equal((await payloops.events.retrieve(event.id)).type, "order.succeeded");
      const seen: string[] = [];
      for await (const each of payloops.events.list({ type: "order.succeeded" }))
        seen.push(each.id);
      assert.ok(seen.includes(event.id));
      const ofOrder: string[] = [];
      for await (const each of payloops.events.list({ order: order.id, pageSize: 1 }))
        ofOrder.push(each.id);
      assert.deepEqual(ofOrder, [event.id]);
      const { deliveries: sent } = await payloops.events.deliveries.list(event.id);
      assert.equal(sent[0]?.webhookEndpoint, endpoint.id);

      await payloops.events.redeliver(event.id);
      await delivered(2);

      const rotated = await payloops.webhookEndpoints.rotateSecret(endpoint.id);
      assert.notEqual(rotated.secret, endpoint.secret);
      const disabled = await payloops.webhookEndpoints.update(endpoint.id, { status: "disabled" });
      assert.equal(disabled.status, "disabled");
      const endpoints = await payloops.webhookEndpoints.list();
      assert.deepEqual(
        endpoints.webhookEndpoints.map((e) => e.id),
        [endpoint.id],
      );
      await payloops.webhookEndpoints.delete(endpoint.id);
    });
  });
});
