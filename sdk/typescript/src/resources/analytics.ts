import type { RequestOptions } from "../http.js";
import type { QueryParams, ResponseOf } from "../types.js";
import { Resource } from "./resource.js";

export type PaymentAnalyticsParams = QueryParams<"GetPaymentAnalytics">;
export type PaymentAnalytics = ResponseOf<"GetPaymentAnalytics">;
export type PaymentAnalyticsBucket = PaymentAnalytics["buckets"][number];

/** Figures over the merchant's payments in the key's mode (docs/analytics.md). */
export class Analytics extends Resource {
  /**
   * The orders created in [startTime, endTime) (at most 90 days), per `interval` ("hour",
   * "day"; none: totals) and per `groupBy` ("processor", "currency", "status", "failure_code";
   * none: no split).
   */
  async payments(
    params: PaymentAnalyticsParams,
    options?: RequestOptions,
  ): Promise<PaymentAnalytics> {
    return (await this.api.call(
      "GetPaymentAnalytics",
      { query: params },
      options,
    )) as PaymentAnalytics;
  }
}
