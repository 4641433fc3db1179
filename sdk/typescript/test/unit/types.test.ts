// The idiomatic types derived from the generated ones: checked by the compiler when the tests are
// built (a wrong type fails `tsc`, and an unused @ts-expect-error does too).
import assert from "node:assert/strict";
import { it } from "node:test";

import PayLoops, {
  type Order,
  type OrderCreateParams,
  type ProcessorAccount,
} from "../../src/index.js";

type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const expectType = <T extends true>(): T | undefined => undefined;

export function typeChecks(payloops: PayLoops, order: Order): void {
  expectType<
    Equal<
      Order["status"],
      | "status_unspecified"
      | "requires_payment_method"
      | "processing"
      | "requires_action"
      | "requires_capture"
      | "succeeded"
      | "failed"
      | "canceled"
    >
  >();
  expectType<Equal<Order["amount"], number>>();
  expectType<Equal<Order["createTime"], Date | undefined>>();
  expectType<Equal<Order["metadata"], { [key: string]: string }>>();
  expectType<Equal<Order["redirectUrl"], string | undefined>>();
  expectType<Equal<OrderCreateParams["amount"], number | bigint>>();

  // readOnly fields are not the caller's to send
  expectType<Equal<Extract<keyof OrderCreateParams, "id" | "status" | "createTime">, never>>();
  // @ts-expect-error status is output only
  void payloops.orders.create({ amount: 1, currency: "USD", status: "succeeded" });
  // @ts-expect-error id is output only
  void payloops.orders.create({ amount: 1, currency: "USD", id: "ord_1" });
  // writeOnly fields are the caller's to send
  void payloops.sessions.create({ email: "a@example.com", password: "secret" });
  // @ts-expect-error amount is required
  void payloops.orders.create({ currency: "USD" });
  void order;
}

it("is checked at build time", () => {
  assert.equal(typeof typeChecks, "function");
});
