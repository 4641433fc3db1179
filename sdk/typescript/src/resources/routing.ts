import type { RequestOptions } from "../http.js";
import { PagePromise } from "../pagination.js";
import type { QueryParams, RequestBody, ResponseOf, RoutingConfig } from "../types.js";
import { Resource } from "./resource.js";

export type RoutingConfigUpdateParams = RequestBody<"UpdateRoutingConfig">;
export type RoutingVersionListParams = QueryParams<"ListRoutingConfigVersions">;
export type RoutingVersionList = ResponseOf<"ListRoutingConfigVersions"> & {
  routingConfigs: RoutingConfig[];
};
export type RoutingSimulateParams = RequestBody<"SimulateRouting">;
export type RoutingSimulation = ResponseOf<"SimulateRouting">;
export type RoutingWhatIfParams = RequestBody<"WhatIfRouting">;
export type RoutingWhatIf = ResponseOf<"WhatIfRouting">;

/** The saved versions of the key's mode. Two versions are diffed by comparing them. */
export class RoutingVersions extends Resource {
  /** Awaited: the first page, newest first. `for await`: every version. */
  list(
    params: RoutingVersionListParams = {},
    options?: RequestOptions,
  ): PagePromise<RoutingVersionList, "routingConfigs", RoutingConfig> {
    return new PagePromise(
      async (pageToken) =>
        (await this.api.call(
          "ListRoutingConfigVersions",
          { query: { ...params, pageToken } },
          options,
        )) as RoutingVersionList,
      "routingConfigs",
      params.pageToken,
    );
  }

  /** One version; 0 is the built-in default. */
  async retrieve(version: number, options?: RequestOptions): Promise<RoutingConfig> {
    return (await this.api.call(
      "GetRoutingConfigVersion",
      { path: { version: String(version) } },
      options,
    )) as RoutingConfig;
  }
}

/** The merchant's routing configuration: which processors an order goes to, in which order. */
export class Routing extends Resource {
  readonly versions = new RoutingVersions(this.api);

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

  /** Makes a new version equal to `version` (0: the built-in default). */
  async rollback(version: number, options?: RequestOptions): Promise<RoutingConfig> {
    return (await this.api.call(
      "RollbackRoutingConfig",
      { path: { version: String(version) }, body: {} },
      options,
    )) as RoutingConfig;
  }

  /** Where one payment would go, by the active configuration or the draft `routingConfig`. */
  async simulate(
    params: RoutingSimulateParams,
    options?: RequestOptions,
  ): Promise<RoutingSimulation> {
    return (await this.api.call("SimulateRouting", { body: params }, options)) as RoutingSimulation;
  }

  /** The last `days` (default 7) of payments replayed through the draft `routingConfig`. */
  async whatIf(params: RoutingWhatIfParams, options?: RequestOptions): Promise<RoutingWhatIf> {
    return (await this.api.call("WhatIfRouting", { body: params }, options)) as RoutingWhatIf;
  }
}
