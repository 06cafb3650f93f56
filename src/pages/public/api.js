/**
 * The JSON API as the pages call it: same origin, the HttpOnly session cookie (which no script can
 * read), JSON both ways. Never throws: a network failure is an answer with status 0.
 */
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return {
      ok: false,
      status: 0,
      body: null,
      retryAfter: undefined,
      message: 'Could not reach the server. Check your connection and try again.',
    };
  }
  let data = null;
  if (res.status !== 204) {
    try {
      data = await res.json();
    } catch {
      data = null;
    }
  }
  const wait = Number(res.headers.get('Retry-After'));
  const retryAfter = Number.isInteger(wait) && wait > 0 ? wait : undefined;
  return { ok: res.ok, status: res.status, body: data, retryAfter, message: messageOf(res.status, data, retryAfter) };
}

/** True for a 401 of the session guard (the session is gone), not a route's own 401 (a wrong password). */
export function sessionEnded(answer) {
  return answer.status === 401 && answer.body !== null && answer.body.authenticated === false;
}

export function waitText(seconds) {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  return `${Math.ceil(seconds / 60)} minutes`;
}

function messageOf(status, data, retryAfter) {
  if (status === 429) return `Too many attempts. Try again in ${waitText(retryAfter ?? 60)}.`;
  if (status === 503) return `The server is busy. Try again in ${waitText(retryAfter ?? 5)}.`;
  const message = data && data.message;
  if (Array.isArray(message)) return message.join('. ');
  if (typeof message === 'string' && message) return message;
  return status >= 500 ? 'Something went wrong on the server. Try again.' : `The request failed (${status}).`;
}

/** The API's validation messages start with the field's name ("email must be ..."): which field, if one of these. */
export function fieldOf(message, fields) {
  const name = /^(\w+) /.exec(message)?.[1];
  return name && fields.includes(name) ? name : undefined;
}

/** A validation message for a person: "new_password must be ..." → "New password must be ...". */
export function fieldSentence(message) {
  const name = /^(\w+) /.exec(message)?.[1];
  return name ? sentence(name.replace(/_/g, ' ') + message.slice(name.length)) : sentence(message);
}

export function sentence(message) {
  const text = message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(text) ? text : `${text}.`;
}
