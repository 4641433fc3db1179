import type { RequestOptions } from "../http.js";
import type { Health as HealthStatus } from "../types.js";
import { Resource } from "./resource.js";

export class Health extends Resource {
  /** Whether the platform is serving, and its dependencies' checks. Needs no key. */
  async retrieve(options?: RequestOptions): Promise<HealthStatus> {
    return (await this.api.call("GetHealth", {}, options)) as HealthStatus;
  }
}
