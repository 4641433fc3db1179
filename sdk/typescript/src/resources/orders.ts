import type { RequestOptions } from "../http.js";
import { PagePromise } from "../pagination.js";
import type { Order, QueryParams, RequestBody, ResponseOf } from "../types.js";
import { Resource } from "./resource.js";

export type OrderCreateParams = RequestBody<"CreateOrder">;
export type OrderPayParams = RequestBody<"PayOrder">;
export type OrderCaptureParams = RequestBody<"CaptureOrder">;
export type OrderCancelParams = RequestBody<"CancelOrder">;
export type OrderListParams = QueryParams<"ListOrders">;
export type OrderList = ResponseOf<"ListOrders"> & { orders: Order[] };

export class Orders extends Resource {
  /** Creates an order in status `requires_payment_method`. */
  async create(params: OrderCreateParams, options?: RequestOptions): Promise<Order> {
    return (await this.api.call("CreateOrder", { body: params }, options)) as Order;
  }

  async retrieve(id: string, options?: RequestOptions): Promise<Order> {
    return (await this.api.call("GetOrder", { path: { order: id } }, options)) as Order;
  }

  /** Awaited: the first page. `for await (const order of orders.list())`: every order. */
  list(
    params: OrderListParams = {},
    options?: RequestOptions,
  ): PagePromise<OrderList, "orders", Order> {
    return new PagePromise(
      async (pageToken) =>
        (await this.api.call(
          "ListOrders",
          { query: { ...params, pageToken } },
          options,
        )) as OrderList,
      "orders",
      params.pageToken,
    );
  }

  /** Pays an order; when it comes back `requires_action`, send the customer to `redirectUrl`. */
  async pay(id: string, params: OrderPayParams, options?: RequestOptions): Promise<Order> {
    return (await this.api.call(
      "PayOrder",
      { path: { order: id }, body: params },
      options,
    )) as Order;
  }

  /** Captures an order in `requires_capture`: all of it, or `amount` of it. */
  async capture(
    id: string,
    params: OrderCaptureParams = {},
    options?: RequestOptions,
  ): Promise<Order> {
    return (await this.api.call(
      "CaptureOrder",
      { path: { order: id }, body: params },
      options,
    )) as Order;
  }

  async cancel(
    id: string,
    params: OrderCancelParams = {},
    options?: RequestOptions,
  ): Promise<Order> {
    return (await this.api.call(
      "CancelOrder",
      { path: { order: id }, body: params },
      options,
    )) as Order;
  }
}
