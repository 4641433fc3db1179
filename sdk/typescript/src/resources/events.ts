import type { RequestOptions } from "../http.js";
import { PagePromise } from "../pagination.js";
import type { Event, QueryParams, RequestBody, ResponseOf } from "../types.js";
import { Resource } from "./resource.js";

export type EventListParams = QueryParams<"ListEvents">;
export type EventList = ResponseOf<"ListEvents"> & { events: Event[] };
export type EventDeliveryList = ResponseOf<"ListEventDeliveries">;
export type EventRedeliverParams = RequestBody<"RedeliverEvent">;

/** The deliveries of events to the merchant's endpoints. */
export class EventDeliveries extends Resource {
  /** Every delivery of one event, to each endpoint, with its attempts. */
  async list(eventId: string, options?: RequestOptions): Promise<EventDeliveryList> {
    return (await this.api.call(
      "ListEventDeliveries",
      { path: { event: eventId } },
      options,
    )) as EventDeliveryList;
  }
}

export class Events extends Resource {
  readonly deliveries = new EventDeliveries(this.api);

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
