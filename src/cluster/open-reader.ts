import type { GatherError } from '../diagnosis/types.js';
import { loadClusterObjects } from '../snapshot/load.js';
import { SnapshotReader } from '../snapshot/snapshot-reader.js';
import { KubeApi, type KubeApiOptions } from './kube-api.js';
import { type LoadKubeConfigOptions, loadKubeConfig, type ResolvedKubeConfig } from './kube-config.js';
import { LiveClusterReader } from './live-cluster-reader.js';
import type { ClusterReader } from './reader.js';

export interface OpenKubeApiOptions extends LoadKubeConfigOptions, Omit<KubeApiOptions, 'kubeConfig'> {}

export interface OpenedKubeApi {
  api: KubeApi;
  config: ResolvedKubeConfig;
}

/** The API client for --kubeconfig/--context (kubectl's rules), for commands that write. */
export function openKubeApi(options: OpenKubeApiOptions): OpenedKubeApi {
  const { kubeconfig, context, env, serviceAccountDir, impersonate, ...apiOptions } = options;
  const config = loadKubeConfig({
    kubeconfig,
    context,
    env,
    impersonate,
    ...(serviceAccountDir === undefined ? {} : { serviceAccountDir }),
  });
  return { api: new KubeApi({ ...apiOptions, kubeConfig: config.kubeConfig }), config };
}

export interface OpenClusterReaderOptions extends OpenKubeApiOptions {
  /** --from: snapshot files and folders; the live cluster when undefined or empty. */
  from?: string[] | undefined;
}

export interface OpenedClusterReader {
  reader: ClusterReader;
  /** The context's default namespace (live only): what `-n` defaults to for kubectl. */
  defaultNamespace: string | undefined;
  /** Close idle connections when done (a no-op for snapshots). */
  close(): void;
  /**
   * What the source could not give whole, for the report's gatherErrors: files of --from that are corrupt or
   * truncated, lists restarted after 410 Expired. Filled as it happens: read it once the reads are done.
   */
  problems: GatherError[];
}

/** The one place diagnose and validate get a ClusterReader: a snapshot with --from, else the live API. */
export async function openClusterReader(options: OpenClusterReaderOptions): Promise<OpenedClusterReader> {
  const { from, ...apiOptions } = options;
  if (from !== undefined && from.length > 0) {
    const snapshot = await loadClusterObjects(from);
    const problems = snapshot.unreadable.map((message) => ({
      type: 'unreadable-file',
      message: `${message}; the rest of the input is diagnosed without it`,
    }));
    for (const problem of problems) options.onWarning?.(problem.message);
    const skipped = Object.entries(snapshot.skipped);
    if (skipped.length > 0) {
      const total = skipped.reduce((sum, [, count]) => sum + count, 0);
      const kinds = skipped.map(([kind, count]) => `${kind} (${count})`).join(', ');
      options.onWarning?.(`skipped ${total} object(s) of kinds stuckfailed does not read: ${kinds}`);
    }
    return {
      reader: new SnapshotReader(snapshot),
      defaultNamespace: undefined,
      close: () => undefined,
      problems,
    };
  }
  const problems: GatherError[] = [];
  const { api, config } = openKubeApi({
    ...apiOptions,
    // KubeApi warns of one thing only: a list restarted after 410 Expired, so that its items are of two moments.
    onWarning: (message) => {
      problems.push({ type: 'list-restarted', message });
      options.onWarning?.(message);
    },
  });
  return {
    reader: new LiveClusterReader(api),
    defaultNamespace: config.namespace,
    close: () => api.close(),
    problems,
  };
}
