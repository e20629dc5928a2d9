import { readFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { z } from 'zod';
import { StuckfailedError } from '../errors.js';

// A small client for the Prometheus HTTP API (https://prometheus.io/docs/prometheus/latest/querying/api/), which
// Thanos Querier (OpenShift's thanos-querier route) speaks too. node:http/https rather than fetch: Node's fetch cannot
// take a CA bundle per request without undici's Agent, and OpenShift's route is signed by the cluster's own CA.

export interface PrometheusClientOptions {
  /** Base URL, path prefix included (e.g. https://thanos-querier.openshift-monitoring.svc:9091). */
  url: string;
  /** Bearer token file, read on every request: projected service-account tokens rotate. */
  tokenFile?: string;
  /** PEM bundle of the CAs that sign the server certificate, read once. */
  caFile?: string;
  /** Per request, and sent to Prometheus as its query timeout. Default 30 s. */
  timeoutMs?: number;
  readText?: (path: string) => Promise<string>;
}

export interface Sample {
  labels: Record<string, string>;
  value: number;
  /** Unix seconds. */
  timestamp: number;
}

export interface RangeSeries {
  labels: Record<string, string>;
  points: Array<{ timestamp: number; value: number }>;
}

export type AlertState = 'inactive' | 'pending' | 'firing';

export interface PrometheusAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: Exclude<AlertState, 'inactive'>;
  activeAt: string | undefined;
  value: number;
}

export interface RangeQueryOptions {
  start: Date;
  end: Date;
  stepSeconds: number;
}

export interface PrometheusClient {
  readonly url: string;
  /** An instant query; a scalar result comes back as one sample without labels. */
  query(expr: string, options?: { time?: Date }): Promise<Sample[]>;
  queryRange(expr: string, options: RangeQueryOptions): Promise<RangeSeries[]>;
  /** Active (pending and firing) alerts, as the server's rule evaluation sees them. */
  alerts(): Promise<PrometheusAlert[]>;
}

const DEFAULT_TIMEOUT_MS = 30_000;

// Sample values travel as strings so that NaN and ±Inf survive JSON.
const sampleValue = z.tuple([z.number(), z.string()]);
const labels = z.record(z.string(), z.string());

const envelope = z.object({
  status: z.enum(['success', 'error']),
  data: z.unknown().optional(),
  errorType: z.string().optional(),
  error: z.string().optional(),
  warnings: z.array(z.string()).optional(),
});

const queryData = z.discriminatedUnion('resultType', [
  z.object({
    resultType: z.literal('vector'),
    result: z.array(z.object({ metric: labels, value: sampleValue })),
  }),
  z.object({ resultType: z.literal('scalar'), result: sampleValue }),
  z.object({
    resultType: z.literal('matrix'),
    result: z.array(z.object({ metric: labels, values: z.array(sampleValue) })),
  }),
  z.object({ resultType: z.literal('string'), result: sampleValue }),
]);

const alertsData = z.object({
  alerts: z.array(
    z.object({
      labels,
      annotations: labels.default({}),
      state: z.enum(['pending', 'firing']),
      activeAt: z.string().optional(),
      value: z.string(),
    }),
  ),
});

export function parseSampleValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

export function createPrometheusClient(options: PrometheusClientOptions): PrometheusClient {
  const base = URL.canParse(options.url)
    ? new URL(options.url.endsWith('/') ? options.url : `${options.url}/`)
    : undefined;
  if (base === undefined || (base.protocol !== 'http:' && base.protocol !== 'https:')) {
    throw new StuckfailedError('USAGE', `--prometheus-url must be http(s), got ${options.url}`);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const readText = options.readText ?? ((path: string) => readFile(path, 'utf8'));
  let caBundle: Promise<string> | undefined;

  async function readCredential(path: string, what: string): Promise<string> {
    try {
      return await readText(path);
    } catch (error) {
      throw new StuckfailedError(
        'PROMETHEUS',
        `cannot read the Prometheus ${what} ${path}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  async function call(apiPath: string, form: URLSearchParams | undefined): Promise<unknown> {
    const url = new URL(apiPath, base);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (options.tokenFile !== undefined) {
      headers.Authorization = `Bearer ${(await readCredential(options.tokenFile, 'token file')).trim()}`;
    }
    let ca: string | undefined;
    if (options.caFile !== undefined) {
      caBundle ??= readCredential(options.caFile, 'CA file');
      ca = await caBundle;
    }
    const body = form?.toString();
    if (body !== undefined) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    const { status, text } = await send(url, {
      method: body === undefined ? 'GET' : 'POST',
      headers,
      body,
      ca,
    });
    return decode(url, status, text);
  }

  function send(
    url: URL,
    init: {
      method: string;
      headers: Record<string, string>;
      body: string | undefined;
      ca: string | undefined;
    },
  ): Promise<{ status: number; text: string }> {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(url, {
        method: init.method,
        headers: init.headers,
        ...(init.ca ? { ca: init.ca } : {}),
      });
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      const fail = (error: Error) => {
        clearTimeout(timer);
        reject(
          new StuckfailedError('PROMETHEUS', `cannot reach Prometheus at ${url.origin}: ${error.message}`, {
            cause: error,
          }),
        );
      };
      req.on('error', fail);
      req.on('response', (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', fail);
        response.on('end', () => {
          clearTimeout(timer);
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.end(init.body);
    });
  }

  function decode(url: URL, status: number, text: string): unknown {
    if (status === 401 || status === 403) {
      throw new StuckfailedError(
        'PROMETHEUS',
        `Prometheus at ${url.origin} answered ${status} ${status === 401 ? 'Unauthorized' : 'Forbidden'}` +
          ' (the token needs get on prometheuses/api, e.g. the cluster-monitoring-view role)',
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new StuckfailedError(
        'PROMETHEUS',
        `Prometheus at ${url.origin}${url.pathname} answered ${status} with a body that is not JSON: ${text.slice(0, 200)}`,
        { cause: error },
      );
    }
    const parsed = envelope.safeParse(json);
    if (!parsed.success) {
      throw new StuckfailedError('PROMETHEUS', `${url.pathname} answered ${status} with an unexpected body`);
    }
    if (parsed.data.status === 'error' || status >= 400) {
      throw new StuckfailedError(
        'PROMETHEUS',
        `Prometheus rejected ${url.pathname} (${status} ${parsed.data.errorType ?? ''}): ${parsed.data.error ?? text.slice(0, 200)}`,
      );
    }
    return parsed.data.data;
  }

  function parseData<T>(schema: z.ZodType<T>, data: unknown, what: string): T {
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      throw new StuckfailedError(
        'PROMETHEUS',
        `unexpected ${what} answer: ${parsed.error.issues[0]?.message}`,
      );
    }
    return parsed.data;
  }

  const timeoutParam = `${Math.max(1, Math.ceil(timeoutMs / 1000))}s`;

  return {
    url: options.url,

    async query(expr, queryOptions = {}) {
      const form = new URLSearchParams({ query: expr, timeout: timeoutParam });
      if (queryOptions.time !== undefined) form.set('time', String(queryOptions.time.getTime() / 1000));
      const data = parseData(queryData, await call('api/v1/query', form), 'query');
      switch (data.resultType) {
        case 'vector':
          return data.result.map((sample) => ({
            labels: sample.metric,
            timestamp: sample.value[0],
            value: parseSampleValue(sample.value[1]),
          }));
        case 'scalar':
          return [{ labels: {}, timestamp: data.result[0], value: parseSampleValue(data.result[1]) }];
        default:
          throw new StuckfailedError(
            'PROMETHEUS',
            `expected a vector from "${expr}", got a ${data.resultType}`,
          );
      }
    },

    async queryRange(expr, range) {
      const form = new URLSearchParams({
        query: expr,
        start: String(range.start.getTime() / 1000),
        end: String(range.end.getTime() / 1000),
        step: String(range.stepSeconds),
        timeout: timeoutParam,
      });
      const data = parseData(queryData, await call('api/v1/query_range', form), 'range query');
      if (data.resultType !== 'matrix') {
        throw new StuckfailedError(
          'PROMETHEUS',
          `expected a matrix from "${expr}", got a ${data.resultType}`,
        );
      }
      return data.result.map((series) => ({
        labels: series.metric,
        points: series.values.map(([timestamp, value]) => ({ timestamp, value: parseSampleValue(value) })),
      }));
    },

    async alerts() {
      const data = parseData(alertsData, await call('api/v1/alerts', undefined), 'alerts');
      return data.alerts.map((alert) => ({
        labels: alert.labels,
        annotations: alert.annotations,
        state: alert.state,
        activeAt: alert.activeAt,
        value: parseSampleValue(alert.value),
      }));
    },
  };
}
