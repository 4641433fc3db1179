// A list call: awaited, its first page; iterated with `for await`, every item of every page,
// fetching the next page when the previous one is used up.

export interface PageRequest {
  readonly pageToken?: string | undefined;
}

type PageResponse<Key extends string, Item> = { readonly [K in Key]: Item[] } & {
  readonly nextPageToken?: string;
};

export class PagePromise<Page extends PageResponse<Key, Item>, Key extends string, Item>
  implements PromiseLike<Page>, AsyncIterable<Item>
{
  readonly #fetchPage: (pageToken: string | undefined) => Promise<Page>;
  readonly #itemsKey: Key;
  readonly #firstToken: string | undefined;
  #first: Promise<Page> | undefined;

  constructor(
    fetchPage: (pageToken: string | undefined) => Promise<Page>,
    itemsKey: Key,
    firstToken?: string,
  ) {
    this.#fetchPage = fetchPage;
    this.#itemsKey = itemsKey;
    this.#firstToken = firstToken;
  }

  #firstPage(): Promise<Page> {
    this.#first ??= this.#fetchPage(this.#firstToken);
    return this.#first;
  }

  then<Resolved = Page, Rejected = never>(
    onFulfilled?: ((page: Page) => Resolved | PromiseLike<Resolved>) | null,
    onRejected?: ((reason: unknown) => Rejected | PromiseLike<Rejected>) | null,
  ): Promise<Resolved | Rejected> {
    return this.#firstPage().then(onFulfilled, onRejected);
  }

  /** Every item of every page, in order. */
  async *[Symbol.asyncIterator](): AsyncIterator<Item> {
    let page = await this.#firstPage();
    for (;;) {
      yield* page[this.#itemsKey] ?? [];
      const next = page.nextPageToken;
      if (!next) return;
      page = await this.#fetchPage(next);
    }
  }
}
