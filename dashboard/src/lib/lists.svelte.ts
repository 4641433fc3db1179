// The lists the pages show, each in one of four states: loading, failed (with a retry), empty,
// or its items. A whole list is read at once (every page the API has); a paged one a page at a
// time with the API's page tokens, so a page stays the same while new items arrive and the
// pages before it are found again by their tokens.

/** What a page needs to show a list in its states (components/ListStates.svelte). */
export interface ListState<T> {
  readonly items: T[];
  readonly loading: boolean;
  readonly error: unknown;
  reload(): void;
}

/** Every item of the SDK's page iterator (`for await` over `list()`), in the API's order. */
export async function every<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

export class WholeList<T> implements ListState<T> {
  items: T[] = $state([]);
  loading = $state(true);
  error: unknown = $state(null);

  readonly #fetchAll: () => Promise<T[]>;

  constructor(fetchAll: () => Promise<T[]>) {
    this.#fetchAll = fetchAll;
  }

  async load(): Promise<void> {
    this.loading = true;
    this.error = null;
    try {
      this.items = await this.#fetchAll();
    } catch (caught) {
      this.error = caught;
      this.items = [];
    } finally {
      this.loading = false;
    }
  }

  reload(): void {
    void this.load();
  }
}

export interface Page<T> {
  items: T[];
  nextPageToken: string;
}

export class PagedList<T> implements ListState<T> {
  items: T[] = $state([]);
  loading = $state(true);
  error: unknown = $state(null);
  // The tokens of the pages before this one (to go back), this page's own, and the next's.
  #previous: string[] = $state([]);
  #current = $state("");
  #next = $state("");

  readonly #fetchPage: (pageToken: string | undefined) => Promise<Page<T>>;

  constructor(fetchPage: (pageToken: string | undefined) => Promise<Page<T>>) {
    this.#fetchPage = fetchPage;
  }

  get hasPrevious(): boolean {
    return this.#previous.length > 0;
  }

  get hasNext(): boolean {
    return this.#next !== "";
  }

  /** From the first page again: after a new filter or mode, or a change to the list. */
  first(): Promise<void> {
    this.#previous = [];
    return this.#load("");
  }

  next(): void {
    this.#previous = [...this.#previous, this.#current];
    void this.#load(this.#next);
  }

  previous(): void {
    const token = this.#previous.at(-1) ?? "";
    this.#previous = this.#previous.slice(0, -1);
    void this.#load(token);
  }

  /** This page again (a retry, a refresh). */
  reload(): void {
    void this.#load(this.#current);
  }

  async #load(token: string): Promise<void> {
    this.loading = true;
    this.error = null;
    try {
      const page = await this.#fetchPage(token || undefined);
      this.items = page.items;
      this.#next = page.nextPageToken;
      this.#current = token;
    } catch (caught) {
      this.error = caught;
      this.items = [];
    } finally {
      this.loading = false;
    }
  }
}
