import type { RequestOptions } from "../http.js";
import { PagePromise } from "../pagination.js";
import type {
  EventDelivery,
  QueryParams,
  RequestBody,
  ResponseOf,
  WebhookEndpoint,
} from "../types.js";
import { Resource } from "./resource.js";

export type WebhookEndpointCreateParams = RequestBody<"CreateWebhookEndpoint">;
export type WebhookEndpointUpdateParams = Partial<RequestBody<"UpdateWebhookEndpoint">>;
export type WebhookEndpointRotateSecretParams = RequestBody<"RotateWebhookEndpointSecret">;
export type WebhookEndpointList = ResponseOf<"ListWebhookEndpoints">;
export type WebhookEndpointDeliveryListParams = QueryParams<"ListWebhookEndpointDeliveries">;
export type WebhookEndpointDeliveryList = ResponseOf<"ListWebhookEndpointDeliveries"> & {
  deliveries: EventDelivery[];
};

/** The deliveries to one endpoint, newest first. */
export class WebhookEndpointDeliveries extends Resource {
  /** Awaited: the first page. `for await (const delivery of …list(id))`: every delivery. */
  list(
    endpointId: string,
    params: WebhookEndpointDeliveryListParams = {},
    options?: RequestOptions,
  ): PagePromise<WebhookEndpointDeliveryList, "deliveries", EventDelivery> {
    return new PagePromise(
      async (pageToken) =>
        (await this.api.call(
          "ListWebhookEndpointDeliveries",
          { path: { webhook_endpoint: endpointId }, query: { ...params, pageToken } },
          options,
        )) as WebhookEndpointDeliveryList,
      "deliveries",
      params.pageToken,
    );
  }
}

export class WebhookEndpoints extends Resource {
  readonly deliveries = new WebhookEndpointDeliveries(this.api);

  /** Creates an endpoint; its `secret` (whsec_…) is returned here only: keep it. */
  async create(
    params: WebhookEndpointCreateParams,
    options?: RequestOptions,
  ): Promise<WebhookEndpoint> {
    return (await this.api.call(
      "CreateWebhookEndpoint",
      { body: params },
      options,
    )) as WebhookEndpoint;
  }

  async list(options?: RequestOptions): Promise<WebhookEndpointList> {
    return (await this.api.call("ListWebhookEndpoints", {}, options)) as WebhookEndpointList;
  }

  /** Changes the fields given (url, enabled events, status…). */
  async update(
    id: string,
    params: WebhookEndpointUpdateParams,
    options?: RequestOptions,
  ): Promise<WebhookEndpoint> {
    return (await this.api.call(
      "UpdateWebhookEndpoint",
      { path: { "webhook_endpoint.id": id }, body: params },
      options,
    )) as WebhookEndpoint;
  }

  async delete(id: string, options?: RequestOptions): Promise<void> {
    await this.api.call("DeleteWebhookEndpoint", { path: { webhook_endpoint: id } }, options);
  }

  /** A new signing secret; the old one keeps signing for `gracePeriod` too. */
  async rotateSecret(
    id: string,
    params: WebhookEndpointRotateSecretParams = {},
    options?: RequestOptions,
  ): Promise<WebhookEndpoint> {
    return (await this.api.call(
      "RotateWebhookEndpointSecret",
      { path: { webhook_endpoint: id }, body: params },
      options,
    )) as WebhookEndpoint;
  }

  /** Sends the endpoint a `webhook_endpoint.test` event now; answers its delivery. */
  async sendTestEvent(id: string, options?: RequestOptions): Promise<EventDelivery> {
    return (await this.api.call(
      "SendTestEvent",
      { path: { webhook_endpoint: id }, body: {} },
      options,
    )) as EventDelivery;
  }
}
