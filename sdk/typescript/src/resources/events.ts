import type { RequestOptions } from "../http.js";
import { PagePromise } from "../pagination.js";
import type { Event, EventDelivery, QueryParams, RequestBody, ResponseOf } from "../types.js";
import { Resource } from "./resource.js";

export type EventListParams = QueryParams<"ListEvents">;
export type EventList = ResponseOf<"ListEvents"> & { events: Event[] };
export type EventDeliveryList = ResponseOf<"ListEventDeliveries">;
export type EventRedeliverParams = RequestBody<"RedeliverEvent">;

export class Events extends Resource {
  /** Awaited: the first page. `for await (const event of events.list())`: every event. */
  list(
    params: EventListParams = {},
    options?: RequestOptions,
  ): PagePromise<EventList, "events", Event> {
    return new PagePromise(
      async (pageToken) =>
        (await this.api.call(
          "ListEvents",
          { query: { ...params, pageToken } },
          options,
        )) as EventList,
      "events",
      params.pageToken,
    );
  }

  async retrieve(id: string, options?: RequestOptions): Promise<Event> {
    return (await this.api.call("GetEvent", { path: { event: id } }, options)) as Event;
  }

  /** Every delivery of an event to the merchant's endpoints, with their attempts. */
  async deliveries(id: string, options?: RequestOptions): Promise<EventDelivery[]> {
    const list = (await this.api.call(
      "ListEventDeliveries",
      { path: { event: id } },
      options,
    )) as EventDeliveryList;
    return list.deliveries;
  }

  /** Delivers an event again (to every endpoint, or the one given). */
  async redeliver(
    id: string,
    params: EventRedeliverParams = {},
    options?: RequestOptions,
  ): Promise<ResponseOf<"RedeliverEvent">> {
    return (await this.api.call(
      "RedeliverEvent",
      { path: { event: id }, body: params },
      options,
    )) as ResponseOf<"RedeliverEvent">;
  }
}
