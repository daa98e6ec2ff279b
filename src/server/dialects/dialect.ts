/**
 * What a wire dialect is: one module per KMS API (Huawei REST, Tencent actions, …) declaring its
 * operations, where they are served, how a caller authenticates, and how a success, an error and
 * an unknown request look on its wire, with its own code for every engine error. The dialects
 * hold no fastify value (types only): `registerDialects` (register.ts) is the one place that
 * turns them into routes, so a dialect is one file plus one line in `DIALECTS` (index.ts).
 */
import type { FastifyRequest } from 'fastify';
import type { ImportEngine } from '../../engine/import-engine.js';
import type { ErrorCode } from '../../errors.js';
import type { Credentials } from '../auth.js';
import type { LimitedCall } from '../rate-limits.js';

/** A request body, already checked against the operation's JSON schema. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- validated by the operation's schema
export type Body = Record<string, any>;

/** One API call of a dialect: its wire name, body schema and engine call. */
export interface Operation {
  /** The name on the wire (`import-key-material`, `ImportKeyMaterial`): route, metric and audit label. */
  readonly name: string;
  /** JSON schema of the body (compiled with coercion and additional-property removal off). */
  readonly body: object;
  /** Counted in `byok_import_seconds` (the import latency histogram). */
  readonly metric?: 'import';
  /** An expensive call under a per-tenant rate limit (the same limit in every dialect). */
  readonly limit?: LimitedCall;
  /** The engine call: the tenant is the authenticated caller's; returns the response fields. */
  run(engine: ImportEngine, tenant: string, body: Body): Promise<object>;
}

/** An operation from its parts (the dialects' tables read as one line per operation head). */
export function operation(name: string, body: object, run: Operation['run'], extras: Pick<Operation, 'metric' | 'limit'> = {}): Operation {
  return { name, body, run, ...extras };
}

/** Where an operation is served: a POST URL, path-parameter schema and routing constraints. */
export interface RouteShape {
  readonly url: string;
  readonly params?: object;
  /** Values for the dialect's routing constraints (e.g. the X-TC-Action header). */
  readonly constraints?: Readonly<Record<string, string>>;
}

/**
 * One route for every operation of a dialect, the request naming its operation (AWS's
 * X-Amz-Target): find-my-way keeps at most 31 constrained routes on one URL, and AWS's two dozen
 * operations beside Tencent's on `POST /` would pass that.
 */
export interface DispatchRoute {
  readonly route: RouteShape;
  /** The operation the request names (one of the dialect's operation names, or anything else: its notFound answer). */
  operationOf(req: FastifyRequest): string | undefined;
}

/** A routing constraint: find-my-way's strategy shape (a header chooses among routes on one URL). */
export interface RouteConstraint {
  readonly name: string;
  /** Where find-my-way keeps the routes of each constraint value. */
  storage(): {
    /** The routes stored for a constraint value. */
    get(value: string): unknown;
    /** Store the routes of a constraint value. */
    set(value: string, store: unknown): void;
  };
  /** Checks a route's constraint value when the route is added. */
  validate(value: unknown): void;
  /** The constraint value of a request (e.g. its X-TC-Action header). */
  deriveConstraint(req: { headers: Record<string, string | string[] | undefined> }): string | undefined;
  readonly mustMatchWhenDerived: boolean;
}

/** An error as this dialect sends it: its own code, the message, and the REST status of the code. */
export interface WireFailure {
  readonly code: string;
  readonly message: string;
  readonly status: number;
}

/** A status and body to send. */
export interface Reply {
  readonly status: number;
  readonly body: object;
}

/** One wire API: everything `registerDialects` needs to serve it. */
export interface Dialect<Name extends string = string> {
  /** Metric label, audit `dialect` field and the column of WIRE_ERRORS. */
  readonly name: Name;
  /** This API's code for every engine error code. */
  readonly errorCodes: Readonly<Record<ErrorCode, string>>;
  readonly operations: readonly Operation[];
  readonly constraints?: readonly RouteConstraint[];
  /** The URL (and constraints) an operation is served at. */
  route(operation: Operation): RouteShape;
  /** Set when the operations share one route that the request's own naming picks among (AWS's X-Amz-Target). */
  readonly dispatch?: DispatchRoute;
  /**
   * The caller's tenant, or a ByokError (UNAUTHORIZED, SIGNATURE_*, ACCESS_KEY_UNKNOWN,
   * ACCESS_DENIED). Runs once the body has arrived (a signature covers its raw bytes) and before
   * it is validated: a caller without credentials learns nothing about the API.
   */
  authenticate(req: FastifyRequest, credentials: Credentials, rawBody: Uint8Array): string;
  /** The media types its bodies come in (default application/json); others are refused after authentication. */
  readonly mediaTypes?: readonly string[];
  /** The Content-Type of every answer, when the API's clients need one exactly (Tencent: `application/json`). */
  readonly contentType?: string;
  /**
   * The header this API's clients read the request ID from, sent beside `x-request-id` on every
   * answer (AWS: `x-amzn-RequestId`, which the AWS SDKs put in `$metadata.requestId`).
   */
  readonly requestIdHeader?: string;
  /** The body of a success. */
  success(result: object, requestId: string): object;
  /** The status and body of an error, in this API's format. */
  error(failure: WireFailure, requestId: string): Reply;
  /** A request no route matched: does it look like one of ours (then errors speak our format)? */
  owns(req: FastifyRequest): boolean;
  /** The answer to a request of ours that names no operation. */
  notFound(req: FastifyRequest): Reply;
}
