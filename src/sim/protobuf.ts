// Kubernetes' protobuf encoding, read for the objects a client sends in it to what the simulator serves:
// `kubectl create namespace` posts its Namespace, and `kubectl auth can-i` and `whoami` their self reviews, as
// application/vnd.kubernetes.protobuf (typed clients), where every other kubectl command sends JSON. The envelope is the magic `k8s\0` and a runtime.Unknown (k8s.io/apimachinery
// pkg/runtime/generated.proto) whose raw bytes are the object (k8s.io/api core/v1 generated.proto); field numbers
// below are those files'. Any other kind is answered 415, saying what is decoded.

import type { KubeObject } from '../kube/types.js';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type WireValue = bigint | Buffer;

/** The fields of one message, by number, each value in order (varints as bigint, length-delimited as bytes). */
function fieldsOf(bytes: Buffer): Map<number, WireValue[]> {
  const fields = new Map<number, WireValue[]>();
  let offset = 0;
  const varint = (): bigint => {
    let value = 0n;
    let shift = 0n;
    for (;;) {
      if (offset >= bytes.length) throw new SyntaxError('truncated varint');
      const byte = bytes[offset++] as number;
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
      shift += 7n;
    }
  };
  while (offset < bytes.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wireType = key & 7;
    let value: WireValue;
    if (wireType === 0) value = varint();
    else if (wireType === 2) {
      const length = Number(varint());
      if (offset + length > bytes.length) throw new SyntaxError('truncated field');
      value = bytes.subarray(offset, offset + length);
      offset += length;
    } else if (wireType === 1 || wireType === 5) {
      // Fixed 64 and 32 bits: no field decoded here uses them; skipped.
      offset += wireType === 1 ? 8 : 4;
      continue;
    } else throw new SyntaxError(`unsupported wire type ${wireType}`);
    const values = fields.get(field);
    if (values) values.push(value);
    else fields.set(field, [value]);
  }
  return fields;
}

const text = (fields: Map<number, WireValue[]>, field: number): string | undefined => {
  const value = fields.get(field)?.at(-1);
  return Buffer.isBuffer(value) ? value.toString('utf8') : undefined;
};
const texts = (fields: Map<number, WireValue[]>, field: number): string[] =>
  (fields.get(field) ?? []).filter(Buffer.isBuffer).map((value) => value.toString('utf8'));

/** A map<string, string> field: repeated entries of key = 1, value = 2. */
function stringMap(fields: Map<number, WireValue[]>, field: number): Record<string, string> | undefined {
  const entries = (fields.get(field) ?? []).filter(Buffer.isBuffer);
  if (entries.length === 0) return undefined;
  return Object.fromEntries(
    entries.map((entry) => {
      const pair = fieldsOf(entry);
      return [text(pair, 1) ?? '', text(pair, 2) ?? ''];
    }),
  );
}

/** ObjectMeta's fields a client sets on a create: name 1, generateName 2, namespace 3, labels 11, annotations 12, finalizers 14. */
function objectMeta(bytes: Buffer | undefined): KubeObject['metadata'] {
  const fields = fieldsOf(bytes ?? Buffer.alloc(0));
  const labels = stringMap(fields, 11);
  const annotations = stringMap(fields, 12);
  const finalizers = texts(fields, 14);
  const metadata: Record<string, unknown> = {};
  for (const [key, value] of [
    ['name', text(fields, 1)],
    ['generateName', text(fields, 2)],
    ['namespace', text(fields, 3)],
  ] as const) {
    if (value) metadata[key] = value;
  }
  if (labels) metadata.labels = labels;
  if (annotations) metadata.annotations = annotations;
  if (finalizers.length > 0) metadata.finalizers = finalizers;
  return metadata as unknown as KubeObject['metadata'];
}

export class UnsupportedProtobufKind extends Error {
  override readonly name = 'UnsupportedProtobufKind';
}

const messageOf = (fields: Map<number, WireValue[]>, field: number): Buffer | undefined => {
  const value = fields.get(field)?.at(-1);
  return Buffer.isBuffer(value) ? value : undefined;
};

/** The string fields of a message that are set, by JSON name: the JSON form omits empty strings (omitempty). */
function strings(bytes: Buffer, names: Record<number, string>): Record<string, string> {
  const fields = fieldsOf(bytes);
  const object: Record<string, string> = {};
  for (const [number, name] of Object.entries(names)) {
    const value = text(fields, Number(number));
    if (value) object[name] = value;
  }
  return object;
}

/** Namespace: metadata 1, spec 2 (NamespaceSpec: finalizers 1); status is not the client's to set. */
function namespace(raw: Buffer): Omit<KubeObject, 'apiVersion' | 'kind'> {
  const fields = fieldsOf(raw);
  const spec = fieldsOf(messageOf(fields, 2) ?? Buffer.alloc(0));
  const finalizers = texts(spec, 1);
  return {
    metadata: objectMeta(messageOf(fields, 1)),
    ...(finalizers.length > 0 ? { spec: { finalizers } } : {}),
  };
}

/**
 * SelfSubjectAccessReview (authorization/v1 generated.proto): metadata 1, spec 2 (resourceAttributes 1:
 * namespace 1, verb 2, group 3, version 4, resource 5, subresource 6, name 7; nonResourceAttributes 2: path 1,
 * verb 2). An attributes message that is present counts even when empty, as a non-nil pointer does in Go.
 */
function selfSubjectAccessReview(raw: Buffer): Omit<KubeObject, 'apiVersion' | 'kind'> {
  const fields = fieldsOf(raw);
  const spec = fieldsOf(messageOf(fields, 2) ?? Buffer.alloc(0));
  const resource = messageOf(spec, 1);
  const nonResource = messageOf(spec, 2);
  return {
    metadata: objectMeta(messageOf(fields, 1)),
    spec: {
      ...(resource === undefined
        ? {}
        : {
            resourceAttributes: strings(resource, {
              1: 'namespace',
              2: 'verb',
              3: 'group',
              4: 'version',
              5: 'resource',
              6: 'subresource',
              7: 'name',
            }),
          }),
      ...(nonResource === undefined
        ? {}
        : { nonResourceAttributes: strings(nonResource, { 1: 'path', 2: 'verb' }) }),
    },
  } as Omit<KubeObject, 'apiVersion' | 'kind'>;
}

/** SelfSubjectRulesReview: metadata 1, spec 2 (namespace 1). */
function selfSubjectRulesReview(raw: Buffer): Omit<KubeObject, 'apiVersion' | 'kind'> {
  const fields = fieldsOf(raw);
  return {
    metadata: objectMeta(messageOf(fields, 1)),
    spec: strings(messageOf(fields, 2) ?? Buffer.alloc(0), { 1: 'namespace' }),
  } as Omit<KubeObject, 'apiVersion' | 'kind'>;
}

/** The kinds clients send in protobuf to what the simulator serves, by apiVersion and kind. */
const DECODERS: Record<string, (raw: Buffer) => Omit<KubeObject, 'apiVersion' | 'kind'>> = {
  'v1, Kind=Namespace': namespace,
  // kubectl auth can-i, can-i --list and whoami
  'authorization.k8s.io/v1, Kind=SelfSubjectAccessReview': selfSubjectAccessReview,
  'authorization.k8s.io/v1, Kind=SelfSubjectRulesReview': selfSubjectRulesReview,
  // SelfSubjectReview: metadata 1; status 2 is the server's to fill.
  'authentication.k8s.io/v1, Kind=SelfSubjectReview': (raw) => ({
    metadata: objectMeta(messageOf(fieldsOf(raw), 1)),
  }),
};

/** The kinds decodeProtobufObject reads, as a 415 names them. */
export const PROTOBUF_DECODED_KINDS = Object.keys(DECODERS);

/** Decodes a protobuf request body into the JSON form of its object. Throws SyntaxError on a malformed body. */
export function decodeProtobufObject(body: Buffer): KubeObject {
  if (!body.subarray(0, MAGIC.length).equals(MAGIC)) throw new SyntaxError('no k8s protobuf magic number');
  const unknown = fieldsOf(body.subarray(MAGIC.length));
  const typeMeta = fieldsOf(messageOf(unknown, 1) ?? Buffer.alloc(0));
  const apiVersion = text(typeMeta, 1) ?? '';
  const kind = text(typeMeta, 2) ?? '';
  const decode = DECODERS[`${apiVersion}, Kind=${kind}`];
  if (decode === undefined) throw new UnsupportedProtobufKind(`${apiVersion}, Kind=${kind}`);
  return { apiVersion, kind, ...decode(messageOf(unknown, 2) ?? Buffer.alloc(0)) } as KubeObject;
}
