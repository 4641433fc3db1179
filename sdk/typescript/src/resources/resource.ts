import type { Api } from "../api.js";

/** A group of the API's operations (orders, refunds, …), sharing the client's transport. */
export abstract class Resource {
  protected readonly api: Api;

  constructor(api: Api) {
    this.api = api;
  }
}
