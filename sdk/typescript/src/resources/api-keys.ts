import type { RequestOptions } from "../http.js";
import { PagePromise } from "../pagination.js";
import type { ApiKey, CreatedApiKey, QueryParams, RequestBody, ResponseOf } from "../types.js";
import { Resource } from "./resource.js";

export type ApiKeyCreateParams = RequestBody<"CreateApiKey">;
export type ApiKeyRollParams = RequestBody<"RollApiKey">;
export type ApiKeyListParams = QueryParams<"ListApiKeys">;
export type ApiKeyList = ResponseOf<"ListApiKeys"> & { apiKeys: ApiKey[] };

export class ApiKeys extends Resource {
  /** Creates a key; its secret is in this response only. */
  async create(params: ApiKeyCreateParams, options?: RequestOptions): Promise<CreatedApiKey> {
    return (await this.api.call("CreateApiKey", { body: params }, options)) as CreatedApiKey;
  }

  list(
    params: ApiKeyListParams = {},
    options?: RequestOptions,
  ): PagePromise<ApiKeyList, "apiKeys", ApiKey> {
    return new PagePromise(
      async (pageToken) =>
        (await this.api.call(
          "ListApiKeys",
          { query: { ...params, pageToken } },
          options,
        )) as ApiKeyList,
      "apiKeys",
      params.pageToken,
    );
  }

  /** A new secret for the key; the old one keeps working for `overlap`. */
  async roll(
    id: string,
    params: ApiKeyRollParams = {},
    options?: RequestOptions,
  ): Promise<CreatedApiKey> {
    return (await this.api.call(
      "RollApiKey",
      { path: { api_key: id }, body: params },
      options,
    )) as CreatedApiKey;
  }

  async revoke(id: string, options?: RequestOptions): Promise<ApiKey> {
    return (await this.api.call(
      "RevokeApiKey",
      { path: { api_key: id }, body: {} },
      options,
    )) as ApiKey;
  }
}
