// Redaction for the support bundle: a bundle leaves the cluster (attached to a support case), so credentials must
// not. Structured objects are redacted by shape (Secret data, env vars, kubeconfig fields); every string, in
// objects and in logs, is then scanned for credential patterns. Pattern-based redaction cannot be complete, which
// the bundle's README says; it errs on the side of hiding too much.

export const REDACTED = '<redacted>';

/** Counts what was hidden, so the README can say how much. */
export interface RedactionCounter {
  count: number;
}

/** Environment variables whose names look like they hold a credential (API_TOKEN, DB_PASSWORD, SSH_KEY...). */
const SENSITIVE_ENV_NAME = /pass(word|wd)?|token|secret|key|credential/i;

/**
 * Object keys that hold a credential wherever they appear: kubeconfig users (`token`, `client-key-data`, the
 * auth-provider `id-token`/`refresh-token`/`access-token`), basic auth (`password`), HTTP headers. A fixed list, not
 * a pattern: `key` alone is a toleration's or selector's field and must survive.
 */
const SENSITIVE_KEYS = new Set([
  'token',
  'id-token',
  'refresh-token',
  'access-token',
  'client-key-data',
  'password',
  'passwd',
  'authorization',
  'bearertoken',
  'bearer-token',
  'apikey',
  'api-key',
  'secretkey',
  'secret-key',
]);

/** kubectl apply's copy of the object as JSON: it holds the same data as the object, so it is redacted alike. */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

interface TextRule {
  pattern: RegExp;
  replace: (match: string, ...groups: string[]) => string;
}

const TEXT_RULES: TextRule[] = [
  // PEM private keys (client keys pasted into logs or ConfigMaps).
  {
    pattern: /-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g,
    replace: () => REDACTED,
  },
  // HTTP Authorization headers, in logs (`Authorization: Bearer x`) and in JSON (`"Authorization":"Basic x"`).
  {
    pattern: /(authorization["']?\s*[:=]\s*["']?)(?:(bearer|basic|token)\s+)?[^\s"',;]+/gi,
    replace: (_match, prefix = '', scheme) => `${prefix}${scheme ? `${scheme} ` : ''}${REDACTED}`,
  },
  // Bearer tokens anywhere else (RFC 6750 token68 characters).
  {
    pattern: /\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*/gi,
    replace: (_match, prefix = '') => `${prefix}${REDACTED}`,
  },
  // JWTs (service account tokens, OIDC id tokens): three base64url parts, the first a JSON header `{"...`.
  { pattern: /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, replace: () => REDACTED },
  // kubeconfig-like YAML lines (`token: x`, `client-key-data: x`, `password: x`) in text.
  {
    pattern:
      /^(\s*-?\s*(?:token|id-token|refresh-token|access-token|client-key-data|password|passwd)\s*:[ \t]*)(?!<redacted>)\S.*$/gim,
    replace: (_match, prefix = '') => `${prefix}${REDACTED}`,
  },
  // The same fields as JSON inside a string (a logged request body, a last-applied annotation that did not parse).
  {
    pattern:
      /("(?:token|id-token|refresh-token|access-token|client-key-data|password|passwd)"\s*:\s*")(?!<redacted>)(?:[^"\\]|\\.)+(")/gi,
    replace: (_match, prefix = '', suffix = '') => `${prefix}${REDACTED}${suffix}`,
  },
  // NAME=value pairs whose name says credential, as shells and env dumps print them.
  {
    pattern: /\b([A-Za-z0-9_]*(?:PASSWORD|PASSWD|TOKEN|SECRET)[A-Za-z0-9_]*=)(?!<redacted>)[^\s"',;&]+/gi,
    replace: (_match, prefix = '') => `${prefix}${REDACTED}`,
  },
];

/** Redacts credential patterns in free text (log lines, messages, annotations). */
export function redactText(text: string, counter: RedactionCounter): string {
  let result = text;
  for (const rule of TEXT_RULES) {
    result = result.replace(rule.pattern, (...args: unknown[]) => {
      counter.count += 1;
      const groups = args.slice(1).filter((arg): arg is string => typeof arg === 'string');
      return rule.replace(String(args[0]), ...groups);
    });
  }
  return result;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Returns a redacted deep copy of a JSON-like value (Kubernetes objects, lists, the diagnosis). */
export function redactValue(value: unknown, counter: RedactionCounter): unknown {
  if (typeof value === 'string') return redactText(value, counter);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, counter));
  if (!isPlainObject(value)) return value;

  const isSecret = value.kind === 'Secret';
  const isEnvVar = typeof value.name === 'string' && 'value' in value && SENSITIVE_ENV_NAME.test(value.name);
  const result: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (isSecret && (key === 'data' || key === 'stringData') && isPlainObject(field)) {
      result[key] = redactAll(field, counter);
    } else if (isEnvVar && key === 'value' && typeof field === 'string') {
      result[key] = redactOne(counter);
    } else if (SENSITIVE_KEYS.has(key.toLowerCase()) && typeof field === 'string' && field !== '') {
      result[key] = redactOne(counter);
    } else if (isSecret && key === 'metadata' && isPlainObject(field)) {
      result[key] = redactSecretMetadata(field, counter);
    } else if (key === 'annotations' && isPlainObject(field)) {
      result[key] = redactAnnotations(field, false, counter);
    } else {
      result[key] = redactValue(field, counter);
    }
  }
  return result;
}

function redactOne(counter: RedactionCounter): string {
  counter.count += 1;
  return REDACTED;
}

function redactAll(map: Record<string, unknown>, counter: RedactionCounter): Record<string, unknown> {
  return Object.fromEntries(Object.keys(map).map((key) => [key, redactOne(counter)]));
}

function redactSecretMetadata(
  metadata: Record<string, unknown>,
  counter: RedactionCounter,
): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(metadata)) {
    result[key] =
      key === 'annotations' && isPlainObject(field)
        ? redactAnnotations(field, true, counter)
        : redactValue(field, counter);
  }
  return result;
}

function redactAnnotations(
  annotations: Record<string, unknown>,
  ownerIsSecret: boolean,
  counter: RedactionCounter,
): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(annotations)) {
    if (key !== LAST_APPLIED || typeof value !== 'string') {
      result[key] = redactValue(value, counter);
    } else if (ownerIsSecret) {
      result[key] = redactOne(counter);
    } else {
      result[key] = redactLastApplied(value, counter);
    }
  }
  return result;
}

function redactLastApplied(json: string, counter: RedactionCounter): string {
  try {
    return JSON.stringify(redactValue(JSON.parse(json), counter));
  } catch {
    return redactText(json, counter);
  }
}
