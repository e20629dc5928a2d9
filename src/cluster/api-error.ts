import { type ErrorCode, StuckfailedError } from '../errors.js';
import type { Status } from '../kube/types.js';

// Errors from the Kubernetes API, typed once: callers branch on statusCode and reason (never on message text), and an
// error nobody handles still reaches the user as one clear line with the right exit code (ApiError is a
// StuckfailedError).

/** The reason a real apiserver puts in a Status for each code (k8s.io/apimachinery/pkg/api/errors). */
const REASON_BY_STATUS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Expired',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

function errorCodeForStatus(statusCode: number): ErrorCode {
  if (statusCode === 401) return 'UNAUTHORIZED';
  if (statusCode === 403) return 'FORBIDDEN';
  // A 400 or 422 is the server refusing what we sent: in practice a selector typed by the user.
  if (statusCode === 400 || statusCode === 422) return 'INPUT';
  return 'UNREACHABLE';
}

/** An RBAC rule, as a ClusterRole/Role lists it: what a 403 says is missing. */
export interface RbacRule {
  verb: string;
  resource: string;
  /** "" for the core group. */
  group: string;
  /** Undefined for cluster-wide requests (lists across namespaces, cluster-scoped resources). */
  namespace?: string;
}

export interface ApiErrorOptions {
  method: string;
  url: string;
  /** Who answered, named in messages so the user knows which cluster it was: "the API server at https://...". */
  server: string;
  status: Status;
  retryAfterSeconds?: number;
  /** Requests sent for this call, retries included. */
  attempts: number;
  /** For a 403: the rule the request needed. */
  rule?: RbacRule;
}

export class ApiError extends StuckfailedError {
  /** The HTTP status (404, 409, 410, 429...). */
  readonly statusCode: number;
  /** The Status reason (NotFound, Conflict, Expired, TooManyRequests...). */
  readonly reason: string;
  readonly details: Status['details'];
  /** The Status body as the server sent it (or as we synthesised it when the body was not a Status). */
  readonly status: Status;
  readonly method: string;
  readonly url: string;
  readonly retryAfterSeconds: number | undefined;
  readonly attempts: number;
  /** For a 403: the RBAC rule the request needed. */
  readonly rule: RbacRule | undefined;

  constructor(options: ApiErrorOptions) {
    const { status } = options;
    super(errorCodeForStatus(status.code), describeApiError(options));
    this.name = 'ApiError';
    this.statusCode = status.code;
    this.reason = status.reason ?? REASON_BY_STATUS[status.code] ?? 'Unknown';
    this.details = status.details;
    this.status = status;
    this.method = options.method;
    this.url = options.url;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.attempts = options.attempts;
    this.rule = options.rule;
  }
}

/** `verb "delete" on "pods" (API group "") in namespace "ns"`: the line an admin turns into a Role rule. */
export function describeRule(rule: RbacRule): string {
  const where = rule.namespace === undefined ? 'cluster-wide' : `in namespace "${rule.namespace}"`;
  return `verb "${rule.verb}" on "${rule.resource}" (API group "${rule.group}") ${where}`;
}

function describeApiError({ method, url, server, status, attempts, rule }: ApiErrorOptions): string {
  const reason = status.reason ?? REASON_BY_STATUS[status.code] ?? 'Unknown';
  const retried = attempts > 1 ? ` (after ${attempts} attempts)` : '';
  if (status.code === 401) {
    return `${server} rejected our credentials (401 Unauthorized) for ${method} ${url}`;
  }
  if (status.code === 403 && rule !== undefined) {
    return `${server} refused ${method} ${url} (Forbidden, 403): the missing RBAC rule is ${describeRule(rule)}; the server said: ${status.message ?? ''}`.trimEnd();
  }
  // kubectl's own wording ("Error from server (NotFound): pods "x" not found"), plus the request and who answered.
  return `error from ${server} (${reason}, ${status.code}) for ${method} ${url}${retried}: ${status.message ?? ''}`.trimEnd();
}

/** The Status of a non-2xx reply: the body itself when it is one, otherwise one built from the HTTP status. */
export function statusFromResponse(statusCode: number, body: string): Status {
  try {
    const parsed = JSON.parse(body) as Partial<Status> | undefined;
    if (parsed && parsed.kind === 'Status') {
      return {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: parsed.metadata ?? {},
        status: parsed.status ?? 'Failure',
        code: typeof parsed.code === 'number' && parsed.code > 0 ? parsed.code : statusCode,
        ...(parsed.message === undefined ? {} : { message: parsed.message }),
        ...(parsed.reason === undefined ? {} : { reason: parsed.reason }),
        ...(parsed.details === undefined ? {} : { details: parsed.details }),
      };
    }
  } catch {
    // Not JSON: a proxy or load balancer answered (HTML 502 pages and the like); described below.
  }
  const reason = REASON_BY_STATUS[statusCode];
  const text = body.trim().replace(/\s+/g, ' ').slice(0, 200);
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    code: statusCode,
    message: text === '' ? `the server answered ${statusCode} with no body` : text,
    ...(reason === undefined ? {} : { reason }),
  };
}

/** Node's error codes for a server we could not talk to at all, with the words a user understands. */
const UNREACHABLE_CAUSES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host name not found (DNS)',
  EAI_AGAIN: 'host name lookup failed (DNS)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  ECONNRESET: 'connection reset by the server',
  EPIPE: 'connection closed by the server',
  ECONNABORTED: 'connection aborted',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS: the server certificate is self-signed and not trusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS: a self-signed certificate in the chain is not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS: the server certificate is not signed by a trusted CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'TLS: the CA of the server certificate is not trusted',
  CERT_HAS_EXPIRED: 'TLS: the server certificate has expired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS: the server certificate does not name this host',
  EPROTO: 'TLS protocol error (is the server speaking plain HTTP?)',
};

export function transportErrorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const { code } = error as { code: unknown };
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** One line naming the server and what went wrong on the wire: refused, DNS, TLS, reset. */
export function unreachableError(error: unknown, server: string, attempts: number): StuckfailedError {
  const code = transportErrorCode(error);
  const known = code === undefined ? undefined : UNREACHABLE_CAUSES[code];
  const detail = error instanceof Error ? error.message : String(error);
  const what = known === undefined ? detail : `${known} (${code})`;
  const retried = attempts > 1 ? ` after ${attempts} attempts` : '';
  return new StuckfailedError('UNREACHABLE', `cannot reach the API server at ${server}${retried}: ${what}`, {
    cause: error,
  });
}

export function isApiError(error: unknown, statusCode?: number): error is ApiError {
  return error instanceof ApiError && (statusCode === undefined || error.statusCode === statusCode);
}

export function isNotFound(error: unknown): error is ApiError {
  return isApiError(error, 404);
}

export function isConflict(error: unknown): error is ApiError {
  return isApiError(error, 409);
}
