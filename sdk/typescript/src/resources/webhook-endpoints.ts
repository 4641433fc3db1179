import type { RequestOptions } from "../http.js";
import type { RequestBody, ResponseOf, WebhookEndpoint } from "../types.js";
import { Resource } from "./resource.js";

export type WebhookEndpointCreateParams = RequestBody<"CreateWebhookEndpoint">;
export type WebhookEndpointUpdateParams = Partial<RequestBody<"UpdateWebhookEndpoint">>;
export type WebhookEndpointRotateSecretParams = RequestBody<"RotateWebhookEndpointSecret">;
export type WebhookEndpointList = ResponseOf<"ListWebhookEndpoints">;

export class WebhookEndpoints extends Resource {
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
}
