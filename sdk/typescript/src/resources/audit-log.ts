import type { RequestOptions } from "../http.js";
import { PagePromise } from "../pagination.js";
import type { AuditEntry, QueryParams, ResponseOf } from "../types.js";
import { Resource } from "./resource.js";

export type AuditLogListParams = QueryParams<"ListAuditEntries">;
export type AuditEntryList = ResponseOf<"ListAuditEntries"> & { auditEntries: AuditEntry[] };

/** Who changed what in the merchant's account, newest first. */
export class AuditLog extends Resource {
  list(
    params: AuditLogListParams = {},
    options?: RequestOptions,
  ): PagePromise<AuditEntryList, "auditEntries", AuditEntry> {
    return new PagePromise(
      async (pageToken) =>
        (await this.api.call(
          "ListAuditEntries",
          { query: { ...params, pageToken } },
          options,
        )) as AuditEntryList,
      "auditEntries",
      params.pageToken,
    );
  }
}
