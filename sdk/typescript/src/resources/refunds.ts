import type { RequestOptions } from "../http.js";
import type { Refund, RequestBody, ResponseOf } from "../types.js";
import { Resource } from "./resource.js";

export type RefundCreateParams = RequestBody<"CreateRefund">;
export type RefundList = ResponseOf<"ListRefunds">;

export class Refunds extends Resource {
  /** Refunds an order: all of what it received, or `amount` of it. */
  async create(
    orderId: string,
    params: RefundCreateParams = {},
    options?: RequestOptions,
  ): Promise<Refund> {
    return (await this.api.call(
      "CreateRefund",
      { path: { order: orderId }, body: params },
      options,
    )) as Refund;
  }

  async retrieve(id: string, options?: RequestOptions): Promise<Refund> {
    return (await this.api.call("GetRefund", { path: { refund: id } }, options)) as Refund;
  }

  /** The refunds of one order. */
  async list(orderId: string, options?: RequestOptions): Promise<RefundList> {
    return (await this.api.call(
      "ListRefunds",
      { path: { order: orderId } },
      options,
    )) as RefundList;
  }
}
