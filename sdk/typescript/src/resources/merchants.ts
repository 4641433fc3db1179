import type { RequestOptions } from "../http.js";
import type { Merchant, RequestBody } from "../types.js";
import { Resource } from "./resource.js";

export type MerchantCreateParams = RequestBody<"CreateMerchant">;

/** Onboarding merchants, with the platform's admin key (`new PayLoops(adminKey)`). */
export class Merchants extends Resource {
  async create(params: MerchantCreateParams, options?: RequestOptions): Promise<Merchant> {
    return (await this.api.call("CreateMerchant", { body: params }, options)) as Merchant;
  }
}
