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
