import type { RequestOptions } from "../http.js";
import type { RequestBody, Token } from "../types.js";
import { Resource } from "./resource.js";

export type TokenCreateParams = RequestBody<"CreateToken">;

/** Tokenizes a card with a publishable key (`new PayLoops('pk_test_…')`), as a browser does. */
export class Tokens extends Resource {
  async create(params: TokenCreateParams, options?: RequestOptions): Promise<Token> {
    return (await this.api.call("CreateToken", { body: params }, options)) as Token;
  }
}
