// The signed-in user's session and the API client every page calls through.
//
// Where the secrets live: the access token (a JWT, 10 minutes) is held in this module's
// variable, in this tab's memory only: never in localStorage, sessionStorage, a readable cookie
// or the URL. The refresh token never reaches the page at all that it keeps: the API sets it
// in an httpOnly, Secure, SameSite=Strict cookie scoped to the refresh and logout calls, which
// no script can read; the page refreshes and signs out with an empty body and the browser
// sends the cookie. A reload restores the session from that cookie. The bundle holds no key.
import { APIError, PayLoops, type FetchFunction, type Session, type User } from "@payloops/sdk";

export type Mode = "test" | "live";

const MODE_KEY = "payloops.mode";
// Refresh this long before the access token expires, so a call never goes out with a token
// about to lapse on the way.
const REFRESH_MARGIN_MS = 60_000;

interface SessionState {
  user: User | null;
  mode: Mode;
  /** Why the user was signed out, shown on the sign-in page. */
  signedOutReason: string;
  /** True until the page has tried to resume a session from the refresh cookie. */
  restoring: boolean;
}

export const session: SessionState = $state({
  user: null,
  mode: storedMode(),
  signedOutReason: "",
  restoring: true,
});

let accessToken = "";
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let refreshing: Promise<void> | null = null;

function storedMode(): Mode {
  // The mode is a preference, not a secret: it may outlive the tab.
  return globalThis.localStorage?.getItem(MODE_KEY) === "live" ? "live" : "test";
}

export function setMode(mode: Mode): void {
  session.mode = mode;
  localStorage.setItem(MODE_KEY, mode);
}

/** Whether the user may change things (the API refuses a viewer's changes anyway). */
export function canAct(): boolean {
  return session.user !== null && session.user.role !== "viewer";
}

export function isOwner(): boolean {
  return session.user?.role === "owner";
}

// Calls that need no credential: sign in, refresh, sign out.
const anonymous = (): PayLoops => new PayLoops("", { baseUrl: location.origin });

export async function signIn(email: string, password: string): Promise<void> {
  adopt(await anonymous().sessions.create({ email, password }));
  session.signedOutReason = "";
}

export async function signOut(reason = ""): Promise<void> {
  forget(reason);
  try {
    // Revokes the session and clears the cookie.
    await anonymous().sessions.logout();
  } catch {
    // The session is gone from this tab either way; an unreachable API cannot undo that.
  }
}

/** Resumes the session of the refresh cookie, if there is one (after a reload). */
export async function restore(): Promise<void> {
  try {
    await refresh();
    session.signedOutReason = "";
  } catch {
    // No session to resume: the user signs in.
    session.signedOutReason = "";
  } finally {
    session.restoring = false;
  }
}

function adopt(fresh: Session): void {
  // The body's refresh token is for API clients without cookies: the page leaves it.
  accessToken = fresh.accessToken;
  session.user = fresh.user ?? null;
  clearTimeout(refreshTimer);
  const expiresAt = fresh.expireTime ? fresh.expireTime.getTime() : Date.now() + 600_000;
  const delay = Math.max(5_000, expiresAt - Date.now() - REFRESH_MARGIN_MS);
  refreshTimer = setTimeout(() => void refresh().catch(() => undefined), delay);
}

function forget(reason: string): void {
  clearTimeout(refreshTimer);
  accessToken = "";
  session.user = null;
  session.signedOutReason = reason;
}

// Every tab of the dashboard shares the one refresh cookie. Refreshes run one at a time across
// tabs (a Web Lock), so each presents the cookie's newest token: two at once would present one
// token twice, which the API takes for a stolen copy and answers by revoking the session.
async function acrossTabs<T>(work: () => Promise<T>): Promise<T> {
  const locks = globalThis.navigator?.locks;
  if (!locks) return work();
  let result: T | undefined;
  await locks.request("payloops.session-refresh", async () => {
    result = await work();
  });
  return result as T;
}

/** A new access token from the refresh cookie; one refresh at a time (refresh tokens rotate:
 * presenting one twice would revoke the whole session). */
export function refresh(): Promise<void> {
  refreshing ??= (async () => {
    try {
      adopt(await acrossTabs(() => anonymous().sessions.refresh()));
    } catch (error) {
      forget("Your session ended: sign in again.");
      throw error;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

async function expiredToken(response: Response): Promise<boolean> {
  if (response.status !== 401) return false;
  try {
    const body = (await response.clone().json()) as { details?: { reason?: string }[] };
    return (body.details ?? []).some((detail) => detail.reason === "ACCESS_TOKEN_EXPIRED");
  } catch {
    return false;
  }
}

// Every call carries the current token and mode, read when it is sent: a call made before a
// refresh and retried after it uses the new token. An expired token is refreshed once and the
// call sent again, so the page the user is on keeps its state.
const sessionFetch: FetchFunction = async (input, init) => {
  const send = (): Promise<Response> => {
    const headers = new Headers(init?.headers);
    headers.set("Authorization", `Bearer ${accessToken}`);
    headers.set("PayLoops-Mode", session.mode);
    return fetch(input, { ...init, headers });
  };
  const response = await send();
  if (response.status !== 401 || !accessToken) return response;
  if (!(await expiredToken(response))) {
    // Removed user, revoked or expired session: this tab's session is over.
    forget("Your session ended: sign in again.");
    return response;
  }
  await refresh();
  return send();
};

/** The API, as the signed-in user, in the mode the switch shows. */
export const api = new PayLoops("", {
  baseUrl: globalThis.location?.origin ?? "http://localhost",
  fetch: sessionFetch,
});

/** A sentence for an error the API (or the network) gave. */
export function describeError(error: unknown): string {
  if (error instanceof APIError) {
    const reason = error.reason ? ` (${error.reason})` : "";
    return `${error.message}${reason}`;
  }
  return error instanceof Error ? error.message : String(error);
}
