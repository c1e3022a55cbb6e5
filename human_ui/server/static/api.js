// The label server's HTTP API (docs/API.md, version 1), as the browser pages use it.
//
// Exports:
//   ApiError: an error reply (status and the server's one-line detail).
//   Api: requests with the bearer token; the token kept in localStorage under a key.
//   requestId: 32 hex digits, made once per answer so that a retry stores nothing twice.

export const API = "/api/v1";

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

function detailOf(status, body) {
  if (body && typeof body.detail === "string") return body.detail;
  if (body && Array.isArray(body.detail)) {
    return body.detail.map((e) => `${(e.loc || []).join(".")}: ${e.msg}`).join("; ");
  }
  return `the server answered ${status}`;
}

export class Api {
  // storageKey: where the token is kept, so that a reload continues.
  constructor(storageKey) {
    this.storageKey = storageKey;
  }

  get token() {
    return window.localStorage.getItem(this.storageKey);
  }

  set token(value) {
    if (value) window.localStorage.setItem(this.storageKey, value);
    else window.localStorage.removeItem(this.storageKey);
  }

  headers(extra = {}) {
    const headers = { ...extra };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    return headers;
  }

  // A JSON request; resolves to the reply's JSON, rejects with an ApiError (status 0: no
  // reply at all, the network or the server is down).
  async json(method, path, body) {
    const init = { method, headers: this.headers(), cache: "no-store" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let reply;
    try {
      reply = await fetch(API + path, init);
    } catch (error) {
      throw new ApiError(0, `no reply from the server (${error.message}): retrying`);
    }
    const text = await reply.text();
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (!reply.ok) throw new ApiError(reply.status, detailOf(reply.status, parsed));
    return parsed;
  }

  // A binary resource (a clip's video, an export) as a Blob, fetched with the token header.
  async blob(path) {
    let reply;
    try {
      reply = await fetch(path.startsWith(API) ? path : API + path, { headers: this.headers() });
    } catch (error) {
      throw new ApiError(0, `no reply from the server (${error.message})`);
    }
    if (!reply.ok) {
      let parsed = null;
      try {
        parsed = await reply.json();
      } catch {
        parsed = null;
      }
      throw new ApiError(reply.status, detailOf(reply.status, parsed));
    }
    return reply.blob();
  }
}

export function requestId() {
  const bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
