import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeProtobufObject, UnsupportedProtobufKind } from './protobuf.js';

// A minimal protobuf writer for the test: length-delimited fields (wire type 2) and varints (wire type 0).
const field = (number: number, value: string | Buffer): Buffer => {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  return Buffer.concat([varint((number << 3) | 2), varint(bytes.length), bytes]);
};
const varintField = (number: number, value: number): Buffer =>
  Buffer.concat([varint(number << 3), varint(value)]);
function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}
const envelope = (apiVersion: string, kind: string, raw: Buffer) =>
  Buffer.concat([
    Buffer.from('k8s\0'),
    field(1, Buffer.concat([field(1, apiVersion), field(2, kind)])),
    field(2, raw),
    field(4, 'application/vnd.kubernetes.protobuf'),
  ]);

describe('decodeProtobufObject', () => {
  it("reads a Namespace as kubectl sends it: ObjectMeta's name, labels and annotations, the spec's finalizers", () => {
    const metadata = Buffer.concat([
      field(1, 'team-a'),
      field(11, Buffer.concat([field(1, 'team'), field(2, 'a')])),
      field(11, Buffer.concat([field(1, 'tier'), field(2, '')])),
      field(12, Buffer.concat([field(1, 'note'), field(2, 'é')])),
      varintField(7, 300), // generation: a varint, read past
    ]);
    const raw = Buffer.concat([field(1, metadata), field(2, field(1, 'kubernetes'))]);
    assert.deepEqual(decodeProtobufObject(envelope('v1', 'Namespace', raw)), {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'team-a', labels: { team: 'a', tier: '' }, annotations: { note: 'é' } },
      spec: { finalizers: ['kubernetes'] },
    });
  });

  it('reads a SelfSubjectAccessReview as kubectl auth can-i sends it (bytes captured from kubectl 1.32)', () => {
    // `kubectl auth can-i get pods/log -n default`: the resource "pods", the name "log", empty strings everywhere
    // else, an empty creationTimestamp and an empty status.
    const body = Buffer.from(
      '6b3873000a320a17617574686f72697a6174696f6e2e6b38732e696f2f7631121753656c665375626a656374416363657373526576696577123f0a100a0012001a0022002a0032003800420012210a1f0a0764656661756c7412036765741a0022002a04706f647332003a036c6f671a08080012001a0020001a002200',
      'hex',
    );
    assert.deepEqual(decodeProtobufObject(body), {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      metadata: {},
      spec: { resourceAttributes: { namespace: 'default', verb: 'get', resource: 'pods', name: 'log' } },
    });
    const nonResource = Buffer.concat([field(1, '/metrics'), field(2, 'get')]);
    const raw = Buffer.concat([field(1, Buffer.alloc(0)), field(2, field(2, nonResource))]);
    assert.deepEqual(
      decodeProtobufObject(envelope('authorization.k8s.io/v1', 'SelfSubjectAccessReview', raw)),
      {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        metadata: {},
        spec: { nonResourceAttributes: { path: '/metrics', verb: 'get' } },
      },
    );
  });

  it('reads the SelfSubjectRulesReview and SelfSubjectReview of kubectl auth can-i --list and whoami (captured)', () => {
    const rules = Buffer.from(
      '6b3873000a310a17617574686f72697a6174696f6e2e6b38732e696f2f7631121653656c665375626a65637452756c657352657669657712230a100a0012001a0022002a0032003800420012090a077765622d766d731a04180022001a002200',
      'hex',
    );
    assert.deepEqual(decodeProtobufObject(rules), {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectRulesReview',
      metadata: {},
      spec: { namespace: 'web-vms' },
    });
    const whoami = Buffer.from(
      '6b3873000a2d0a1861757468656e7469636174696f6e2e6b38732e696f2f7631121153656c665375626a656374526576696577121a0a100a0012001a0022002a0032003800420012060a040a0012001a002200',
      'hex',
    );
    assert.deepEqual(decodeProtobufObject(whoami), {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
      metadata: {},
    });
  });

  it('refuses other kinds, a body without the magic number, and a truncated one', () => {
    assert.throws(
      () => decodeProtobufObject(envelope('v1', 'Pod', field(1, field(1, 'p')))),
      (error: unknown) => error instanceof UnsupportedProtobufKind && error.message === 'v1, Kind=Pod',
    );
    assert.throws(() => decodeProtobufObject(Buffer.from('{"kind":"Namespace"}')), SyntaxError);
    const whole = envelope('v1', 'Namespace', field(1, field(1, 'team-a')));
    assert.throws(() => decodeProtobufObject(whole.subarray(0, whole.length - 3)), SyntaxError);
  });
});
