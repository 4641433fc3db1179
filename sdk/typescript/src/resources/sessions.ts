import type { RequestOptions } from "../http.js";
import type { RequestBody, ResponseOf, Session } from "../types.js";
import { Resource } from "./resource.js";

export type SessionCreateParams = RequestBody<"CreateSession">;
export type SessionRefreshParams = RequestBody<"RefreshSession">;
export type SessionLogoutParams = RequestBody<"LogoutSession">;
export type Jwks = ResponseOf<"GetJwks">;

/** Dashboard sign-in: a session's access token is a bearer credential like an API key
 * (`new PayLoops(session.accessToken)`). These calls need no key. In a browser on the API's
 * origin, `refresh()` and `logout()` need no token either: the API keeps the refresh token
 * in an httpOnly cookie, out of the page's reach. */
export class Sessions extends Resource {
  async create(params: SessionCreateParams, options?: RequestOptions): Promise<Session> {
    return (await this.api.call("CreateSession", { body: params }, options)) as Session;
  }

  async refresh(params: SessionRefreshParams = {}, options?: RequestOptions): Promise<Session> {
    return (await this.api.call("RefreshSession", { body: params }, options)) as Session;
  }

  async logout(params: SessionLogoutParams = {}, options?: RequestOptions): Promise<void> {
    await this.api.call("LogoutSession", { body: params }, options);
  }

  /** The public keys that verify access tokens. */
  async jwks(options?: RequestOptions): Promise<Jwks> {
    return (await this.api.call("GetJwks", {}, options)) as Jwks;
  }
}
