import type { RequestOptions } from "../http.js";
import type { RequestBody, RoutingConfig } from "../types.js";
import { Resource } from "./resource.js";

export type RoutingConfigUpdateParams = RequestBody<"UpdateRoutingConfig">;

/** The merchant's routing configuration: which processors an order goes to, in which order. */
export class Routing extends Resource {
  async retrieve(options?: RequestOptions): Promise<RoutingConfig> {
    return (await this.api.call("GetRoutingConfig", {}, options)) as RoutingConfig;
  }

  /** Replaces the configuration of the key's mode as a whole, after validating it. */
  async update(
    params: RoutingConfigUpdateParams,
    options?: RequestOptions,
  ): Promise<RoutingConfig> {
    return (await this.api.call("UpdateRoutingConfig", { body: params }, options)) as RoutingConfig;
  }
}
