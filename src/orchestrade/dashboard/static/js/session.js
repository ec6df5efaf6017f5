// The login token lives in sessionStorage: it is gone when the tab closes, and other tabs
// log in on their own. A message for the login page (why you were sent back) sits beside it.

const SESSION_KEY = "orchestrade.session";
const MESSAGE_KEY = "orchestrade.login-message";

/** {token, expiresAt, user} or null. */
export function currentSession() {
  const text = sessionStorage.getItem(SESSION_KEY);
  if (!text) return null;
  try {
    const session = JSON.parse(text);
    return typeof session?.token === "string" && session.token ? session : null;
  } catch {
    return null;
  }
}

/** Keep the answer of POST /auth/login. */
export function saveSession(login) {
  const session = { token: login.access_token, expiresAt: login.expires_at, user: login.user };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

/** Forget the token; `message` is shown on the login page next. */
export function endSession(message = null) {
  sessionStorage.removeItem(SESSION_KEY);
  if (message) sessionStorage.setItem(MESSAGE_KEY, message);
}

/** The message left by `endSession`, once. */
export function takeLoginMessage() {
  const message = sessionStorage.getItem(MESSAGE_KEY);
  sessionStorage.removeItem(MESSAGE_KEY);
  return message;
}
