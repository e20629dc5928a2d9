import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StuckfailedError } from '../errors.js';
import { ApiError, isConflict, isNotFound, statusFromResponse, unreachableError } from './api-error.js';

const server = 'the API server at https://api.example:6443';

function apiError(statusCode: number, body: string, attempts = 1): ApiError {
  return new ApiError({
    method: 'GET',
    url: 'https://api.example:6443/api/v1/pods',
    server,
    status: statusFromResponse(statusCode, body),
    attempts,
  });
}

describe('ApiError', () => {
  it('maps 401 to UNAUTHORIZED and 403 to FORBIDDEN, naming the server', () => {
    const unauthorized = apiError(
      401,
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}',
    );
    assert.equal(unauthorized.code, 'UNAUTHORIZED');
    assert.equal(unauthorized.exitCode, 3);
    assert.match(unauthorized.message, /https:\/\/api\.example:6443 rejected our credentials/);

    const forbidden = apiError(
      403,
      JSON.stringify({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message:
          'pods is forbidden: User "u" cannot list resource "pods" in API group "" at the cluster scope',
        reason: 'Forbidden',
        details: { kind: 'pods' },
        code: 403,
      }),
    );
    assert.equal(forbidden.code, 'FORBIDDEN');
    assert.equal(forbidden.statusCode, 403);
    assert.equal(forbidden.reason, 'Forbidden');
    assert.deepEqual(forbidden.details, { kind: 'pods' });
    assert.match(
      forbidden.message,
      /^error from the API server at https:\/\/api\.example:6443 \(Forbidden, 403\)/,
    );
    assert.match(forbidden.message, /cannot list resource "pods"/);
    assert.ok(forbidden instanceof StuckfailedError);
  });

  it('keeps the Status of a 409 and a 404 for callers to branch on', () => {
    const conflict = apiError(
      409,
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Operation cannot be fulfilled on pods \\"x\\": Precondition failed: UID in precondition: a, UID in object meta: b","reason":"Conflict","details":{"name":"x","kind":"pods"},"code":409}',
    );
    assert.ok(isConflict(conflict));
    assert.equal(conflict.reason, 'Conflict');
    assert.equal(conflict.details?.name, 'x');
    assert.equal(conflict.code, 'UNREACHABLE');
    const gone = apiError(
      404,
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","reason":"NotFound","code":404}',
    );
    assert.ok(isNotFound(gone));
  });

  it('maps 400 (a bad selector) to INPUT', () => {
    const bad = apiError(
      400,
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"field label not supported: status.hostIP","reason":"BadRequest","code":400}',
    );
    assert.equal(bad.code, 'INPUT');
    assert.equal(bad.exitCode, 2);
  });

  it('builds a Status when a proxy answers with HTML, and says how many attempts were made', () => {
    const error = apiError(502, '<html><body><h1>502 Bad Gateway</h1></body></html>', 11);
    assert.equal(error.statusCode, 502);
    assert.equal(error.reason, 'Unknown');
    assert.match(error.message, /502 Bad Gateway/);
    assert.match(error.message, /after 11 attempts/);
    assert.equal(apiError(429, '').reason, 'TooManyRequests');
  });
});

describe('unreachableError', () => {
  it('says in one line what failed on the wire, and where', () => {
    const refused = unreachableError(
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      'https://127.0.0.1:1',
      1,
    );
    assert.equal(refused.code, 'UNREACHABLE');
    assert.equal(
      refused.message,
      'cannot reach the API server at https://127.0.0.1:1: connection refused (ECONNREFUSED)',
    );
    const tls = unreachableError(
      Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }),
      'https://x',
      1,
    );
    assert.match(tls.message, /TLS: the server certificate is self-signed/);
    assert.doesNotMatch(tls.message, /\n/);
    const odd = unreachableError(new Error('something else'), 'https://x', 3);
    assert.equal(odd.message, 'cannot reach the API server at https://x after 3 attempts: something else');
  });
});
