import type { RequestOptions } from "../http.js";
import type { Processor, ProcessorAccount, RequestBody, ResponseOf } from "../types.js";
import { Resource } from "./resource.js";

export type ProcessorCreateParams = RequestBody<"CreateProcessor">;
export type ProcessorList = ResponseOf<"ListProcessors">;
export type ProcessorAccountCreateParams = RequestBody<"CreateProcessorAccount">;
export type ProcessorAccountRotateParams = RequestBody<"RotateProcessorAccountCredentials">;
export type ProcessorAccountList = ResponseOf<"ListProcessorAccounts">;
export type AvailableProcessorList = ResponseOf<"ListAvailableProcessors">;

/** The payment processors the platform can route to: an operator's API, with the platform's
 * admin key (`new PayLoops(adminKey)`). */
export class Processors extends Resource {
  async create(params: ProcessorCreateParams, options?: RequestOptions): Promise<Processor> {
    return (await this.api.call("CreateProcessor", { body: params }, options)) as Processor;
  }

  async list(options?: RequestOptions): Promise<ProcessorList> {
    return (await this.api.call("ListProcessors", {}, options)) as ProcessorList;
  }
}

/** The merchant's own accounts at processors, with their credentials (never returned). */
export class ProcessorAccounts extends Resource {
  async create(
    params: ProcessorAccountCreateParams,
    options?: RequestOptions,
  ): Promise<ProcessorAccount> {
    return (await this.api.call(
      "CreateProcessorAccount",
      { body: params },
      options,
    )) as ProcessorAccount;
  }

  async list(options?: RequestOptions): Promise<ProcessorAccountList> {
    return (await this.api.call("ListProcessorAccounts", {}, options)) as ProcessorAccountList;
  }

  /** The processors the merchant can route to in this mode, with the credential fields an
   * account at each needs, whose account its payments would use, and its circuit breaker
   * (`health`: the platform's, the same for every merchant). */
  async availableProcessors(options?: RequestOptions): Promise<AvailableProcessorList> {
    return (await this.api.call(
      "ListAvailableProcessors",
      {},
      options,
    )) as AvailableProcessorList;
  }

  async rotateCredentials(
    id: string,
    params: ProcessorAccountRotateParams,
    options?: RequestOptions,
  ): Promise<ProcessorAccount> {
    return (await this.api.call(
      "RotateProcessorAccountCredentials",
      { path: { processor_account: id }, body: params },
      options,
    )) as ProcessorAccount;
  }

  async disable(id: string, options?: RequestOptions): Promise<ProcessorAccount> {
    return (await this.api.call(
      "DisableProcessorAccount",
      { path: { processor_account: id }, body: {} },
      options,
    )) as ProcessorAccount;
  }
}
