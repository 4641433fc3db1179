import type { RequestOptions } from "../http.js";
import { PagePromise } from "../pagination.js";
import type { QueryParams, RequestBody, ResponseOf, User } from "../types.js";
import { Resource } from "./resource.js";

export type UserCreateParams = RequestBody<"CreateUser">;
export type UserSetRoleParams = RequestBody<"SetUserRole">;
export type UserListParams = QueryParams<"ListUsers">;
export type UserList = ResponseOf<"ListUsers"> & { users: User[] };

/** The merchant's dashboard users (a dashboard session's calls). */
export class Users extends Resource {
  async create(params: UserCreateParams, options?: RequestOptions): Promise<User> {
    return (await this.api.call("CreateUser", { body: params }, options)) as User;
  }

  list(
    params: UserListParams = {},
    options?: RequestOptions,
  ): PagePromise<UserList, "users", User> {
    return new PagePromise(
      async (pageToken) =>
        (await this.api.call(
          "ListUsers",
          { query: { ...params, pageToken } },
          options,
        )) as UserList,
      "users",
      params.pageToken,
    );
  }

  async setRole(id: string, params: UserSetRoleParams, options?: RequestOptions): Promise<User> {
    return (await this.api.call(
      "SetUserRole",
      { path: { user: id }, body: params },
      options,
    )) as User;
  }

  async remove(id: string, options?: RequestOptions): Promise<User> {
    return (await this.api.call("RemoveUser", { path: { user: id }, body: {} }, options)) as User;
  }
}
