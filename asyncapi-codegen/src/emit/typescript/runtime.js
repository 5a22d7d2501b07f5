// The client every generated channel module builds on: one WebSocket, typed by the channel's
// module. An ES module with no dependencies; it runs as it is in a browser page and in Node.

/** The `message` of API Gateway's error frames. */
const ERROR_MESSAGES = ["Forbidden", "Bad request body", "Internal server error", "Too Many Requests"];

/** What a client's calls fail with; `kind` says which failure. */
export class ClientError extends Error {
  constructor(kind, message, details = {}) {
    super(message);
    this.name = "ClientError";
    this.kind = kind;
    Object.assign(this, details);
  }
}

/** The error frame `value` is (`{"message": "Forbidden", "connectionId": …}`), or `undefined`. */
export function errorFrame(value) {
  if (!isObject(value) || typeof value.connectionId !== "string") return undefined;
  if (!ERROR_MESSAGES.includes(value.message)) return undefined;
  const frame = { message: value.message, connectionId: value.connectionId };
  if (typeof value.requestId === "string") frame.requestId = value.requestId;
  if (typeof value.messageId === "string") frame.messageId = value.messageId;
  if (Array.isArray(value.errors)) frame.errors = value.errors;
  return frame;
}

/**
 * Whether `value` has the shape `schema` describes: `type`, `const`, `enum`, `required`,
 * `properties`, `additionalProperties`, `items`, `prefixItems`, `allOf`, `anyOf`, `oneOf` (one
 * branch at least) and local `$ref`s. Refinements (bounds, lengths, patterns, formats) are the
 * server's to check; pass `validate` to `connect` to check everything.
 */
export function matches(schema, value, root = schema, depth = 0) {
  if (schema === false) return false;
  if (!isObject(schema) || depth > 64) return true;
  const next = (s, v) => matches(s, v, root, depth + 1);
  if (typeof schema.$ref === "string" && schema.$ref.startsWith("#")) {
    const target = pointer(root, decodeURIComponent(schema.$ref.slice(1)));
    if (target !== undefined && !next(target, value)) return false;
  }
  if ("const" in schema && !equal(schema.const, value)) return false;
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => equal(e, value))) return false;
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => hasType(t, value))) return false;
  }
  if (Array.isArray(schema.allOf) && !schema.allOf.every((s) => next(s, value))) return false;
  if (Array.isArray(schema.anyOf) && !schema.anyOf.some((s) => next(s, value))) return false;
  if (Array.isArray(schema.oneOf) && !schema.oneOf.some((s) => next(s, value))) return false;
  if (isObject(value)) {
    if (Array.isArray(schema.required) && !schema.required.every((k) => k in value)) return false;
    const properties = isObject(schema.properties) ? schema.properties : {};
    for (const [key, item] of Object.entries(value)) {
      if (Object.hasOwn(properties, key)) {
        if (!next(properties[key], item)) return false;
      } else if (schema.patternProperties === undefined && schema.additionalProperties !== undefined) {
        if (!next(schema.additionalProperties, item)) return false;
      }
    }
  }
  if (Array.isArray(value)) {
    const prefix = Array.isArray(schema.prefixItems)
      ? schema.prefixItems
      : Array.isArray(schema.items)
        ? schema.items
        : [];
    const rest = Array.isArray(schema.items) ? schema.additionalItems : schema.items;
    for (const [index, item] of value.entries()) {
      const itemSchema = index < prefix.length ? prefix[index] : rest;
      if (itemSchema !== undefined && !next(itemSchema, item)) return false;
    }
  }
  return true;
}

/** The value at a JSON pointer (`/a/0/b`), or `undefined`. */
export function pointer(value, path) {
  if (path === "") return value;
  if (!path.startsWith("/")) return undefined;
  let here = value;
  for (const raw of path.slice(1).split("/")) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (Array.isArray(here) && /^(0|[1-9][0-9]*)$/.test(key)) here = here[Number(key)];
    else if (isObject(here) && Object.hasOwn(here, key)) here = here[key];
    else return undefined;
  }
  return here;
}

function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function hasType(type, value) {
  switch (type) {
    case "null": return value === null;
    case "boolean": return typeof value === "boolean";
    case "string": return typeof value === "string";
    case "number": return typeof value === "number";
    case "integer": return Number.isInteger(value);
    case "array": return Array.isArray(value);
    case "object": return isObject(value);
    default: return true;
  }
}

function equal(a, b) {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => equal(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && equal(a[k], b[k]));
  }
  return false;
}

/**
 * The handshake's URL: `base`, then the channel's path with its parameters, then the query. A
 * channel at `/` is the base itself when the base has a path (an API Gateway stage URL,
 * `wss://{api}.execute-api.{region}.amazonaws.com/{stage}`, as API Gateway serves it).
 */
export function channelUrl(base, path, params = {}, query = {}) {
  const filled = path.replace(/\{([^}]+)\}/g, (_, name) => {
    if (params[name] === undefined) throw new ClientError("invalid", `the path parameter \`${name}\` is missing`);
    return encodeURIComponent(String(params[name]));
  });
  const url = new URL(String(base));
  const prefix = url.pathname.replace(/\/$/, "");
  url.pathname = filled === "/" && prefix !== "" ? prefix : prefix + filled;
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) url.searchParams.set(name, String(value));
  }
  return url.toString();
}

const DEFAULT_RECONNECT = { initial: 100, max: 5000, attempts: Infinity };

/** A connection to one channel: what the generated client of each channel extends. */
export class Client {
  #socket;
  #url;
  #channel;
  #options;
  #listeners = new Map();
  // Events before the first listener (a frame can arrive with the handshake's answer).
  #held = [];
  #listening = false;
  #pending = [];
  #stopped = false;
  #final;
  #resolveClosed;

  constructor(opened, url, channel, options) {
    this.#url = url;
    this.#channel = channel;
    this.#options = options;
    /** Resolves with the last close once the client is closed for good. */
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.#attach(opened);
  }

  /** Opens the handshake and resolves with the client once the server accepts it. */
  static async connect(Class, base, channel, options = {}) {
    // A bearer token goes in the query (RFC 6750 §2.3): browsers cannot set the handshake's headers.
    const token = options.accessToken === undefined ? {} : { access_token: options.accessToken };
    const url = channelUrl(base, channel.path, options.params, { ...options.query, ...token });
    return new Class(await open(url, options), url, channel, options);
  }

  /** The URL the client connected to. */
  get url() {
    return this.#url;
  }

  /** Whether the connection is open now. */
  get isOpen() {
    return this.#socket !== undefined && this.#socket.readyState === 1;
  }

  /** Calls `listener` with each event of `type`; returns the function that stops it. */
  on(type, listener) {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(listener);
    if (!this.#listening) {
      // What arrived before anyone listened goes to the listeners added in this same turn.
      this.#listening = true;
      const held = this.#held.splice(0);
      if (held.length > 0) queueMicrotask(() => held.forEach((event) => this.#dispatch(event)));
    }
    return () => set.delete(listener);
  }

  /** Every event from now on, until the client is closed for good. */
  events() {
    const queue = [];
    const waiting = [];
    let done = this.#final !== undefined;
    const push = (event) => {
      if (done) return;
      if (event.type === "close" && event.final) done = true;
      const resolve = waiting.shift();
      if (resolve) resolve({ value: event, done: false });
      else queue.push(event);
      if (done) for (const r of waiting.splice(0)) r({ value: undefined, done: true });
    };
    const stop = this.on("*", push);
    return {
      next: () => {
        if (queue.length > 0) return Promise.resolve({ value: queue.shift(), done: false });
        if (done) {
          stop();
          return Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve) => waiting.push(resolve));
      },
      return: () => {
        done = true;
        stop();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  [Symbol.asyncIterator]() {
    return this.events();
  }

  /** Sends any JSON value as a text frame (checked with `validate` only when a schema is given). */
  send(message, schema) {
    this.#check(message, schema);
    this.sendText(JSON.stringify(message));
  }

  /** Sends text as it is. */
  sendText(text) {
    if (!this.isOpen) throw new ClientError("closed", "the connection is not open");
    this.#socket.send(text);
  }

  /**
   * Sends `message` and resolves with its reply: the first frame that has the reply's shape and,
   * when the document gives both a `correlationId`, the request's id.
   */
  request(message, route, options = {}) {
    let text;
    try {
      this.#check(message, route.schema);
      text = JSON.stringify(message);
    } catch (error) {
      return Promise.reject(error);
    }
    const expected = route.correlation ? pointer(message, route.correlation[0]) : undefined;
    const timeout = options.timeout ?? this.#options.requestTimeout ?? 10000;
    return new Promise((resolve, reject) => {
      const pending = {
        reply: route.reply,
        at: route.correlation?.[1],
        expected,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#settle(pending);
          reject(new ClientError("timeout", `no reply within ${timeout} ms`));
        }, timeout),
      };
      this.#pending.push(pending);
      try {
        this.sendText(text);
      } catch (error) {
        this.#settle(pending);
        reject(error);
      }
    });
  }

  /**
   * Closes the connection with 1000 (no reconnection follows) and resolves once the server's
   * close arrives, or after the request timeout at most.
   */
  close(code = 1000, reason = "") {
    this.#stopped = true;
    if (this.#socket && this.#socket.readyState <= 1) {
      this.#socket.close(code, reason);
      const timer = setTimeout(() => this.#finish({ code, reason }), this.#options.requestTimeout ?? 10000);
      timer.unref?.();
      this.closed.then(() => clearTimeout(timer));
    } else {
      this.#finish({ code, reason });
    }
    return this.closed;
  }

  #check(message, schema) {
    const validate = this.#options.validate;
    if (!validate || schema === undefined) return;
    const verdict = validate(schema, message);
    if (verdict !== true) {
      const errors = Array.isArray(verdict) ? verdict : [];
      throw new ClientError("invalid", "the message breaks its schema", { errors });
    }
  }

  #fits(schema, value) {
    const validate = this.#options.validate;
    return validate ? validate(schema, value) === true : matches(schema, value);
  }

  #settle(pending) {
    clearTimeout(pending.timer);
    const index = this.#pending.indexOf(pending);
    if (index >= 0) this.#pending.splice(index, 1);
  }

  #emit(event) {
    if (this.#listening) this.#dispatch(event);
    else this.#held.push(event);
  }

  #dispatch(event) {
    for (const type of [event.type, "*"]) {
      for (const listener of [...(this.#listeners.get(type) ?? [])]) listener(event);
    }
  }

  #attach({ socket, early }) {
    this.#socket = socket;
    socket.onmessage = (event) => this.#receive(event.data);
    socket.onclose = (event) => this.#closed(socket, event.code, event.reason);
    for (const data of early) this.#receive(data);
  }

  #receive(data) {
    if (typeof data !== "string") {
      this.#emit({ type: "unknown", data });
      return;
    }
    let json;
    try {
      json = JSON.parse(data);
    } catch {
      this.#emit({ type: "unknown", data });
      return;
    }
    const frame = errorFrame(json);
    if (frame) {
      // The server answers a connection's messages in order: the oldest request waiting gets it.
      const pending = this.#pending[0];
      if (pending) {
        this.#settle(pending);
        pending.reject(new ClientError("server", frame.message, { frame }));
      } else {
        this.#emit({ type: "serverError", error: frame });
      }
      return;
    }
    for (const pending of this.#pending) {
      const correlated = pending.expected === undefined || equal(pointer(json, pending.at), pending.expected);
      if (correlated && this.#fits(pending.reply, json)) {
        this.#settle(pending);
        pending.resolve(json);
        return;
      }
    }
    for (const [name, schema] of this.#channel.incoming) {
      if (this.#fits(schema, json)) {
        this.#emit({ type: "message", message: { name, payload: json } });
        return;
      }
    }
    this.#emit({ type: "unknown", data });
  }

  async #closed(socket, code, reason) {
    if (socket !== this.#socket) return;
    this.#socket = undefined;
    for (const pending of this.#pending.splice(0)) {
      clearTimeout(pending.timer);
      pending.reject(new ClientError("closed", `the connection closed (${code})`, { code, reason }));
    }
    // As the Rust client: no reconnection after `close()`, or when the server closes with 1000.
    const reconnect = this.#options.reconnect;
    if (this.#stopped || !reconnect || code === 1000) {
      this.#finish({ code, reason });
      return;
    }
    this.#emit({ type: "close", code, reason, final: false });
    const backoff = { ...DEFAULT_RECONNECT, ...(reconnect === true ? {} : reconnect) };
    for (let attempt = 1; !this.#stopped; attempt++) {
      if (attempt > backoff.attempts) break;
      const delay = Math.min(backoff.initial * 2 ** (attempt - 1), backoff.max);
      this.#emit({ type: "reconnecting", attempt, delay });
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (this.#stopped) break;
      try {
        const next = await open(this.#url, this.#options);
        if (this.#stopped) {
          next.socket.close(1000, "");
          break;
        }
        this.#attach(next);
        this.#emit({ type: "open" });
        return;
      } catch (error) {
        // A refusal the server means (a 4xx other than 408 and 429) is final.
        const status = error.status;
        if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) break;
      }
    }
    this.#finish({ code, reason });
  }

  #finish({ code, reason }) {
    if (this.#final !== undefined) return;
    this.#final = { code, reason };
    this.#emit({ type: "close", code, reason, final: true });
    this.#resolveClosed(this.#final);
  }
}

const encoder = new TextEncoder();
const hex = (bytes) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
const sha256 = async (text) => hex(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
async function hmac(key, text) {
  const imported = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return crypto.subtle.sign("HMAC", imported, encoder.encode(text));
}
/** SigV4's encoding: everything but `A-Z a-z 0-9 - _ . ~`. */
const rfc3986 = (text) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * `url` (`ws://` or `wss://`, its query kept) presigned with AWS Signature Version 4 for the
 * service `execute-api`, as an AWS SDK presigns a `GET` (the signature in the query, what a
 * browser can send): the handshake an API Gateway `$connect` whose authorization is `AWS_IAM`
 * takes. `credentials` are `{ accessKeyId, secretAccessKey, sessionToken?, region, expires? }`
 * (`expires` in seconds, 60 by default); `now` is the signing time.
 */
export async function presign(url, credentials, now = new Date()) {
  const { accessKeyId, secretAccessKey, sessionToken, region, expires = 60 } = credentials;
  const signed = new URL(String(url));
  const stamp = now.toISOString().replace(/[-:]|\.\d{3}/g, "");
  const day = stamp.slice(0, 8);
  const scope = `${day}/${region}/execute-api/aws4_request`;
  const query = signed.searchParams;
  query.set("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
  query.set("X-Amz-Credential", `${accessKeyId}/${scope}`);
  query.set("X-Amz-Date", stamp);
  query.set("X-Amz-Expires", String(expires));
  if (sessionToken) query.set("X-Amz-Security-Token", sessionToken);
  query.set("X-Amz-SignedHeaders", "host");
  const canonicalQuery = [...query]
    .map(([name, value]) => [rfc3986(name), rfc3986(value)])
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
  // The path as sent, each segment encoded once more (SigV4's double encoding for services other than S3).
  const path = signed.pathname.split("/").map((segment) => rfc3986(segment)).join("/") || "/";
  const emptyBody = await sha256("");
  const request = ["GET", path, canonicalQuery, `host:${signed.host}`, "", "host", emptyBody].join("\n");
  const toSign = ["AWS4-HMAC-SHA256", stamp, scope, await sha256(request)].join("\n");
  let key = encoder.encode(`AWS4${secretAccessKey}`);
  for (const part of [day, region, "execute-api", "aws4_request"]) key = await hmac(key, part);
  // The query as signed, encoded as SigV4 encodes it (not as a form: a space is `%20`, not `+`).
  signed.search = `?${canonicalQuery}&X-Amz-Signature=${hex(await hmac(key, toSign))}`;
  return signed.toString();
}

/**
 * Opens a WebSocket (its URL presigned when `options.sigv4` gives credentials: each reconnection
 * signs anew) and resolves once it is open, with the frames that came with the handshake's
 * answer (before the client was there to take them); rejects with a `refused` `ClientError`.
 */
async function open(url, options) {
  const target = options.sigv4 ? await presign(url, options.sigv4) : url;
  return openSocket(target, options);
}

function openSocket(url, options) {
  const WebSocketClass = options.WebSocket ?? globalThis.WebSocket;
  if (typeof WebSocketClass !== "function") {
    throw new ClientError("invalid", "no WebSocket here: pass `WebSocket` (the `ws` package's class on Node 20)");
  }
  return new Promise((resolve, reject) => {
    const socket = options.headers
      ? new WebSocketClass(url, options.protocols, { headers: options.headers })
      : new WebSocketClass(url, options.protocols);
    socket.binaryType = "arraybuffer";
    const early = [];
    socket.onmessage = (event) => early.push(event.data);
    let status;
    const fail = (reason, code) => {
      clearTimeout(timer);
      socket.onopen = socket.onerror = socket.onclose = socket.onmessage = null;
      reject(new ClientError("refused", reason, { status, code }));
    };
    const timer = setTimeout(() => {
      fail("the handshake timed out");
      socket.close();
    }, options.connectTimeout ?? 10000);
    socket.onopen = () => {
      clearTimeout(timer);
      socket.onopen = socket.onerror = null;
      resolve({ socket, early });
    };
    socket.onerror = (event) => {
      // Browsers say nothing about a refusal; the `ws` package names the status.
      const said = String(event?.message ?? event?.error?.message ?? "");
      const found = /Unexpected server response: (\d{3})/.exec(said);
      if (found) status = Number(found[1]);
      if (socket.readyState === 3) fail(said || "the handshake failed");
    };
    socket.onclose = (event) => {
      const why = status ? `the server refused the handshake with ${status}` : "the handshake failed";
      fail(event.reason || why, event.code);
    };
  });
}
