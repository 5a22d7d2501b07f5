// The client every generated channel module builds on. Types only here: see `runtime.js`.

/** Any JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A JSON Schema, as the document writes it. */
export type JsonSchema = boolean | { readonly [keyword: string]: unknown };

/**
 * A validator to check messages fully (ajv, say): `true` when `value` is valid against `schema`,
 * else `false` or the violations.
 */
export type Validate = (schema: JsonSchema, value: unknown) => boolean | unknown[];

/** What a client needs of a WebSocket: the browser's, Node 22's, or the `ws` package's. */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType: string;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { readonly data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onclose: ((event: { readonly code: number; readonly reason: string }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket class: `new WebSocket(url, protocols)` (and the `ws` package's `{ headers }`). */
export type WebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
  options?: { headers?: Record<string, string> },
) => WebSocketLike;

/** Reconnection with exponential backoff (milliseconds): `initial`, doubled up to `max`. */
export interface Backoff {
  /** The wait before the first attempt (100). */
  initial?: number;
  /** The longest wait (5000). */
  max?: number;
  /** The most attempts for one outage (no bound). */
  attempts?: number;
}

/** The credentials of a SigV4-presigned handshake (the service is `execute-api`). */
export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Temporary credentials' session token. */
  sessionToken?: string;
  region: string;
  /** How long the presigned URL is valid, in seconds (60). */
  expires?: number;
}

/** `url` presigned with SigV4 for `execute-api`, as an AWS SDK presigns a `GET`. */
export function presign(url: string, credentials: SigV4Credentials, now?: Date): Promise<string>;

/** How a client connects and behaves. */
export interface ConnectOptions {
  /** Subprotocols to offer. */
  protocols?: string | string[];
  /**
   * A bearer token (a JWT) for a server whose security asks for one: sent as the `access_token`
   * query parameter (RFC 6750 §2.3), which ws-runtime reads as it reads `Authorization: Bearer`;
   * browsers cannot set a WebSocket handshake's headers.
   */
  accessToken?: string;
  /**
   * AWS credentials every handshake is presigned with (SigV4 in the URL's query), for an API
   * Gateway `$connect` whose authorization is `AWS_IAM`.
   */
  sigv4?: SigV4Credentials;
  /** The WebSocket class: the global one by default (browsers, Node 22); on Node 20 the `ws` package's. */
  WebSocket?: WebSocketConstructor;
  /** Reconnect when the connection drops (`true`: 100 ms doubling to 5 s, forever). */
  reconnect?: boolean | Backoff;
  /** How long `request`s wait for their reply, in milliseconds (10000). */
  requestTimeout?: number;
  /** How long the handshake may take, in milliseconds (10000). */
  connectTimeout?: number;
  /**
   * Check outgoing messages, and tell incoming ones apart, with a full validator. Without one,
   * incoming frames are told apart by shape (types, required properties, `const` and `enum`).
   */
  validate?: Validate;
}

/** An error frame from the server, as API Gateway writes it. */
export interface ErrorFrame {
  readonly message: "Forbidden" | "Bad request body" | "Internal server error" | "Too Many Requests";
  readonly connectionId: string;
  /** `Forbidden` and `Internal server error` name the request. */
  readonly requestId?: string;
  /** `Bad request body` names the message. */
  readonly messageId?: string;
  /** The schema's violations, for `Bad request body` when the server reveals them. */
  readonly errors?: readonly unknown[];
}

/** What a client tells its listeners, by `type`. */
export type ClientEvent<Incoming> =
  /** A message from the server, typed by the channel. */
  | { readonly type: "message"; readonly message: Incoming }
  /** An error frame that answers no waiting request. */
  | { readonly type: "serverError"; readonly error: ErrorFrame }
  /** A frame that is no message of the channel: kept, never thrown away. */
  | { readonly type: "unknown"; readonly data: string | ArrayBuffer }
  /** The connection closed; `final` when no reconnection follows. */
  | { readonly type: "close"; readonly code: number; readonly reason: string; readonly final: boolean }
  /** A reconnection attempt starts after `delay` milliseconds. */
  | { readonly type: "reconnecting"; readonly attempt: number; readonly delay: number }
  /** Connected again after a reconnection. */
  | { readonly type: "open" };

/** Why a call failed. */
export class ClientError extends Error {
  readonly kind: "refused" | "closed" | "timeout" | "server" | "invalid";
  /** `refused`: the HTTP status of the refusal, when the WebSocket class tells it (the `ws` package does; browsers do not). */
  readonly status?: number;
  /** `closed`, `refused`: the close code. */
  readonly code?: number;
  /** `closed`: the close reason. */
  readonly reason?: string;
  /** `server`: the error frame that answered the request. */
  readonly frame?: ErrorFrame;
  /** `invalid`: the validator's violations. */
  readonly errors?: readonly unknown[];
}

/** A request's options. */
export interface RequestOptions {
  /** Milliseconds to wait for the reply (the client's `requestTimeout`). */
  timeout?: number;
}

/**
 * A payload whose `K` properties (the constants the route pins) the client fills in. (Not
 * `Omit`, which drops the declared properties of a type with an index signature.)
 */
export type Sendable<T, K extends keyof T> = { [P in keyof T as P extends K ? never : P]: T[P] } & {
  [P in K]?: T[P];
};

/** A channel as the client sees it (generated). */
export interface Channel {
  readonly path: string;
  readonly incoming: ReadonlyArray<readonly [string, JsonSchema]>;
}

/** A route with a reply (generated). */
export interface TwoWayRoute {
  readonly schema: JsonSchema;
  readonly reply: JsonSchema;
  /** JSON pointers to the `correlationId` in the request and in the reply. */
  readonly correlation?: readonly [string, string];
}

/** An open WebSocket, and the frames that came with the handshake's answer. */
export interface Opened {
  readonly socket: WebSocketLike;
  readonly early: readonly unknown[];
}

/** A connection to one channel: what the generated client of each channel extends. */
export class Client<Incoming> {
  protected constructor(opened: Opened, url: string, channel: Channel, options: ConnectOptions);
  /** Resolves with the last close once the client is closed for good. */
  readonly closed: Promise<{ readonly code: number; readonly reason: string }>;
  /** The URL the client connected to. */
  get url(): string;
  /** Whether the connection is open now. */
  get isOpen(): boolean;
  /**
   * Calls `listener` with each event of `type` (`"*"`: every event); returns the function that
   * stops it. Events that arrive before the first listener is added are held, and go to the
   * listeners added in that same turn.
   */
  on<K extends ClientEvent<Incoming>["type"]>(
    type: K,
    listener: (event: Extract<ClientEvent<Incoming>, { readonly type: K }>) => void,
  ): () => void;
  on(type: "*", listener: (event: ClientEvent<Incoming>) => void): () => void;
  /** Every event from now on, until the client is closed for good. */
  events(): AsyncIterableIterator<ClientEvent<Incoming>>;
  [Symbol.asyncIterator](): AsyncIterableIterator<ClientEvent<Incoming>>;
  /** Sends any JSON value as a text frame: an escape hatch; the generated methods are typed. */
  send(message: unknown, schema?: JsonSchema): void;
  /** Sends text as it is. */
  sendText(text: string): void;
  /** Sends `message` and resolves with the first frame that fits `route`'s reply. */
  request(message: unknown, route: TwoWayRoute, options?: RequestOptions): Promise<unknown>;
  /** Closes the connection (1000 by default); no reconnection follows. */
  close(code?: number, reason?: string): Promise<{ readonly code: number; readonly reason: string }>;
  /** Connects a generated client class to a channel. */
  static connect<C>(
    Class: new (opened: Opened, url: string, channel: Channel, options: ConnectOptions) => C,
    base: string,
    channel: Channel,
    options?: ConnectOptions & { params?: object; query?: object; headers?: object },
  ): Promise<C>;
}

/** The error frame `value` is, or `undefined`. */
export function errorFrame(value: unknown): ErrorFrame | undefined;

/** Whether `value` has the shape `schema` describes (types, required properties, `const`, `enum`). */
export function matches(schema: JsonSchema, value: unknown): boolean;

/** The value at a JSON pointer, or `undefined`. */
export function pointer(value: unknown, path: string): unknown;

/** The handshake's URL: `base`, the channel's path with its parameters, the query. */
export function channelUrl(base: string, path: string, params?: object, query?: object): string;
