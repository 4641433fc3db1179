// The dashboard runs in the browser only: every page needs the signed-in user's session, which
// lives in this tab's memory.
export const ssr = false;
export const prerender = false;
