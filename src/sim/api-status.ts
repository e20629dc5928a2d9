// The Status bodies a real apiserver sends for each failure (apiserver.md §4.4; k8s.io/apimachinery
// pkg/api/errors/errors.go), so clients branch on the same reason and code as against a real cluster.

import type { ResourceType } from '../kube/resources.js';
import type { Status } from '../kube/types.js';

/** An API failure: the HTTP status and the Status body to send (and the headers that go with it). */
export class ApiStatusError extends Error {
  override readonly name = 'ApiStatusError';
  readonly status: Status;
  readonly headers: Record<string, string>;

  constructor(status: Status, headers: Record<string, string> = {}) {
    super(status.message);
    this.status = status;
    this.headers = headers;
  }

  get code(): number {
    return this.status.code;
  }
}

function failure(code: number, reason: string, message: string, details?: Status['details']): Status {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details === undefined ? {} : { details }),
    code,
  };
}

/** `pods` for the core group, `virtualmachineinstancemigrations.kubevirt.io` otherwise (GroupResource.String). */
export function qualifiedResource(type: ResourceType): string {
  return type.group === '' ? type.plural : `${type.plural}.${type.group}`;
}

function resourceDetails(type: ResourceType, name: string): NonNullable<Status['details']> {
  return { name, ...(type.group === '' ? {} : { group: type.group }), kind: type.plural };
}

export function notFound(type: ResourceType, name: string): ApiStatusError {
  return new ApiStatusError(
    failure(404, 'NotFound', `${qualifiedResource(type)} "${name}" not found`, resourceDetails(type, name)),
  );
}

export function alreadyExists(type: ResourceType, name: string): ApiStatusError {
  return new ApiStatusError(
    failure(
      409,
      'AlreadyExists',
      `${qualifiedResource(type)} "${name}" already exists`,
      resourceDetails(type, name),
    ),
  );
}

export function conflict(type: ResourceType, name: string, why: string): ApiStatusError {
  return new ApiStatusError(
    failure(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualifiedResource(type)} "${name}": ${why}`,
      resourceDetails(type, name),
    ),
  );
}

export function badRequest(message: string): ApiStatusError {
  return new ApiStatusError(failure(400, 'BadRequest', message));
}

export function invalid(type: ResourceType, name: string, message: string): ApiStatusError {
  return new ApiStatusError(
    failure(422, 'Invalid', `${type.kind} "${name}" is invalid: ${message}`, resourceDetails(type, name)),
  );
}

/** One field.Error: the field path and the whole `field: Type: detail` text. */
export interface FieldError {
  field: string;
  message: string;
}

/**
 * errors.NewInvalid: 422 `<Kind>.<group> "<name>" is invalid: <errors>` with one cause per field error (kubectl
 * prints the causes).
 */
export function invalidObject(
  group: string,
  kind: string,
  name: string,
  errors: readonly FieldError[],
): ApiStatusError {
  const messages = errors.map((error) => error.message);
  const summary = messages.length === 1 ? (messages[0] as string) : `[${messages.join(', ')}]`;
  const qualified = group === '' ? kind : `${kind}.${group}`;
  return new ApiStatusError(
    failure(422, 'Invalid', `${qualified} "${name}" is invalid: ${summary}`, {
      ...(name === '' ? {} : { name }),
      ...(group === '' ? {} : { group }),
      kind,
      causes: errors.map((error) => ({
        reason: /: Unsupported value/.test(error.message)
          ? 'FieldValueNotSupported'
          : /: Required value/.test(error.message)
            ? 'FieldValueRequired'
            : /: Forbidden/.test(error.message)
              ? 'FieldValueForbidden'
              : /: Duplicate value/.test(error.message)
                ? 'FieldValueDuplicate'
                : /: Too long/.test(error.message)
                  ? 'FieldValueTooLong'
                  : 'FieldValueInvalid',
        message: error.message.slice(error.field.length + 2),
        field: error.field,
      })),
    }),
  );
}

export function requestEntityTooLarge(limitBytes: number): ApiStatusError {
  return new ApiStatusError(
    failure(413, 'RequestEntityTooLarge', `the request body is larger than ${limitBytes} bytes`),
  );
}

export function unsupportedMediaType(contentType: string): ApiStatusError {
  return new ApiStatusError(
    failure(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got ${contentType})`,
    ),
  );
}

/** A protobuf body of a kind the simulator does not decode from protobuf (it decodes Namespaces only). */
export function protobufNotDecoded(
  contentType: string,
  kind: string,
  decoded: readonly string[],
): ApiStatusError {
  return new ApiStatusError(
    failure(
      415,
      'UnsupportedMediaType',
      `the simulator decodes ${contentType} only for ${decoded.join(' and ')}, not for ${kind}: send application/json`,
    ),
  );
}

/** The unknown-path 404 (no details), as the apiserver's NotFound handler sends it. */
export function pathNotFound(): ApiStatusError {
  return new ApiStatusError(failure(404, 'NotFound', 'the server could not find the requested resource', {}));
}

export function methodNotAllowed(): ApiStatusError {
  return new ApiStatusError(
    failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {}),
  );
}

export function unauthorized(): ApiStatusError {
  return new ApiStatusError(failure(401, 'Unauthorized', 'Unauthorized'));
}

export function tooManyRequests(retryAfterSeconds: number): ApiStatusError {
  return new ApiStatusError(
    failure(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds }),
    { 'Retry-After': String(retryAfterSeconds) },
  );
}

export function internalError(message: string): ApiStatusError {
  return new ApiStatusError(
    failure(500, 'InternalError', `Internal error occurred: ${message}`, { retryAfterSeconds: 1 }),
  );
}

/**
 * 504 for a list or watch at a resourceVersion the store has not reached (the apiserver waits about 3 s for it,
 * then gives up: storage/cacher waitUntilFreshAndBlock, errors.NewTooLargeResourceVersionError).
 */
export function tooLargeResourceVersion(requested: string, current: number): ApiStatusError {
  return new ApiStatusError(
    failure(504, 'Timeout', `Too large resource version: ${requested}, current: ${current}`, {
      causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
      retryAfterSeconds: 1,
    }),
  );
}

/** 410 for a watch or list resourceVersion older than the retained history. */
export function resourceVersionExpired(requested: number, oldest: number): ApiStatusError {
  return new ApiStatusError(failure(410, 'Expired', `too old resource version: ${requested} (${oldest})`));
}

/** 410 for a compacted continue token; the body carries a fresh token (rv -1) to go on inconsistently. */
export function continueExpired(newToken: string): ApiStatusError {
  return new ApiStatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: { continue: newToken },
    status: 'Failure',
    message:
      'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
    reason: 'Expired',
    code: 410,
  });
}
