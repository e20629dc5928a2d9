import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments, parseDocument } from 'yaml';
import { StuckfailedError } from '../errors.js';
import type { PodLog } from '../kube/cluster-objects.js';
import { apiVersionOf, RESOURCES, type ResourceType } from '../kube/resources.js';
import type { KubeObject } from '../kube/types.js';
import type { SnapshotContents } from './snapshot-reader.js';

// The offline source (DESIGN §4 "Inputs"): YAML or JSON files of Kubernetes objects (single objects, `kind: List`,
// typed lists such as PodList, multi-document YAML), folders recursively, and the must-gather layout written by
// `oc adm inspect` (openshift/oc pkg/cli/admin/inspect): namespaces/<ns>/core/pods.yaml, .../core/events.yaml,
// namespaces/<ns>/kubevirt.io/<plural>.yaml, namespaces/<ns>/pods/<pod>/<pod>.yaml,
// cluster-scoped-resources/core/nodes/<node>.yaml, and container logs at
// namespaces/<ns>/pods/<pod>/<container>/<container>/logs/{current,previous}.log.

export interface LoadedSnapshot extends SnapshotContents {
  /** Objects of kinds stuckfailed does not read, by "apiVersion/kind" (or "(not an object)"), and how many. */
  skipped: Record<string, number>;
  /** Files read (objects and logs). */
  files: number;
  /** Must-gather files left unread because their resource is one stuckfailed does not read. */
  filesSkipped: number;
  /**
   * Files that could not be read whole (corrupt, truncated, unreadable): the message names the file and line.
   * Must-gathers are often truncated; what the other files (and a file's documents before the damage) hold is kept.
   */
  unreadable: string[];
}

const OBJECT_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
const READ_PLURALS = new Set<string>(Object.values(RESOURCES).map((type) => type.plural));
const LOG_PATH = /(?:^|\/)namespaces\/([^/]+)\/pods\/([^/]+)\/([^/]+)\/\3\/logs\/(current|previous)\.log$/;
/** `kubectl logs --timestamps` prefix (RFC3339Nano), which `oc adm inspect` asks for (Timestamps: true). */
const KUBELET_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}) /;

/** Reads every path (files and folders, recursively) into one set of objects and logs. */
export async function loadClusterObjects(paths: string[]): Promise<LoadedSnapshot> {
  const collector = new Collector();
  for (const input of paths) {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(input);
    } catch (error) {
      throw new StuckfailedError('INPUT', `cannot read ${input}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (info.isDirectory()) await collector.readFolder(input);
    else await collector.readFile(input, true);
  }
  return collector.result();
}

class Collector {
  readonly #objects = new Map<string, KubeObject>();
  readonly #logs: PodLog[] = [];
  readonly #previousLogs: PodLog[] = [];
  readonly #skipped: Record<string, number> = {};
  readonly #unreadable: string[] = [];
  #files = 0;
  #filesSkipped = 0;

  async readFolder(folder: string): Promise<void> {
    let entries: Dirent[];
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (error) {
      throw new StuckfailedError('INPUT', `cannot read folder ${folder}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) await this.readFolder(full);
      else if (entry.isFile() || (entry.isSymbolicLink() && (await isLinkToFile(full))))
        await this.readFile(full, false);
    }
  }

  /** Named files are always read; files found in folders only when they can hold what we read. */
  async readFile(file: string, named: boolean): Promise<void> {
    const normalized = file.split(path.sep).join('/');
    const log = LOG_PATH.exec(normalized);
    if (log !== null) {
      const [, namespace, pod, container, which] = log as unknown as [string, string, string, string, string];
      const text = await this.#read(file);
      if (text === undefined) return;
      const lines = logLines(text);
      (which === 'previous' ? this.#previousLogs : this.#logs).push({ namespace, pod, container, lines });
      return;
    }
    if (!named) {
      if (!OBJECT_EXTENSIONS.has(path.extname(file).toLowerCase())) return;
      if (unreadMustGatherResource(normalized)) {
        this.#filesSkipped += 1;
        return;
      }
    }
    const text = await this.#read(file);
    if (text === undefined) return;
    const { values, error } = parseFile(file, text);
    for (const value of values) this.#addValue(value);
    if (error !== undefined) this.#unreadable.push(error);
  }

  result(): LoadedSnapshot {
    return {
      objects: [...this.#objects.values()],
      logs: this.#logs,
      previousLogs: this.#previousLogs,
      skipped: this.#skipped,
      files: this.#files,
      filesSkipped: this.#filesSkipped,
      unreadable: this.#unreadable,
    };
  }

  /** The file's text, or undefined (recorded as unreadable) when it exists but cannot be read. */
  async #read(file: string): Promise<string | undefined> {
    this.#files += 1;
    try {
      return await readFile(file, 'utf8');
    } catch (error) {
      this.#unreadable.push(`${file}: cannot read: ${(error as Error).message}`);
      return undefined;
    }
  }

  #addValue(value: unknown, fromList?: { apiVersion: string | undefined; kind: string | undefined }): void {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      for (const item of value) this.#addValue(item);
      return;
    }
    if (typeof value !== 'object') {
      this.#skip('(not an object)');
      return;
    }
    const record = value as Record<string, unknown>;
    let apiVersion = typeof record.apiVersion === 'string' ? record.apiVersion : undefined;
    let kind = typeof record.kind === 'string' ? record.kind : undefined;
    if (Array.isArray(record.items) && (kind === undefined || kind.endsWith('List'))) {
      for (const item of record.items) this.#addValue(item, { apiVersion, kind });
      return;
    }
    // Items of a typed list (PodList from the API, or from a must-gather) carry no kind of their own: the list's
    // kind without "List" is theirs, and so is its apiVersion. Items of a `kind: List` always carry their own.
    if (kind === undefined && fromList?.kind !== undefined && fromList.kind !== 'List') {
      kind = fromList.kind.slice(0, -'List'.length);
      apiVersion ??= fromList.apiVersion;
    }
    const metadata = record.metadata as { name?: unknown } | undefined;
    if (
      kind === undefined ||
      typeof metadata !== 'object' ||
      metadata === null ||
      typeof metadata.name !== 'string'
    ) {
      this.#skip('(not a Kubernetes object)');
      return;
    }
    const type = resourceTypeFor(apiVersion, kind);
    if (type === undefined) {
      this.#skip(`${apiVersion ?? '?'}/${kind}`);
      return;
    }
    const object = record as unknown as KubeObject;
    object.apiVersion = apiVersionOf(type);
    object.kind = type.kind;
    // A must-gather holds a pod twice (core/pods.yaml and pods/<pod>/<pod>.yaml): keep the newer copy.
    const key = `${type.plural}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
    const held = this.#objects.get(key);
    if (held === undefined || resourceVersionOf(object) > resourceVersionOf(held))
      this.#objects.set(key, object);
  }

  #skip(what: string): void {
    this.#skipped[what] = (this.#skipped[what] ?? 0) + 1;
  }
}

/** Links to files are read; links to folders are not followed, so a link cycle cannot loop the walk. */
async function isLinkToFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/**
 * The resource of an apiVersion + kind, by group and kind. The version is not compared, so dumps from older
 * KubeVirt (kubevirt.io/v1alpha3, the same schema for what we read) still load; they are normalised to v1.
 */
function resourceTypeFor(apiVersion: string | undefined, kind: string): ResourceType | undefined {
  const group =
    apiVersion === undefined ? undefined : apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  return Object.values(RESOURCES).find(
    (type) => type.kind === kind && (group === undefined || type.group === group),
  );
}

function resourceVersionOf(object: KubeObject): number {
  const parsed = Number(object.metadata.resourceVersion);
  return Number.isFinite(parsed) ? parsed : -1;
}

/**
 * True for a must-gather file that holds a resource stuckfailed does not read (configmaps, deployments, routes,
 * ...): namespaces/<ns>/<group>/<plural>.yaml or cluster-scoped-resources/<group>/<plural>[/<name>].yaml. A real
 * must-gather holds hundreds of these; not parsing them is most of the load time.
 */
function unreadMustGatherResource(file: string): boolean {
  const segments = file.split('/');
  const last = segments.length - 1;
  const base = (segments[last] ?? '').replace(/\.(ya?ml|json)$/i, '');
  const namespaced = segments.lastIndexOf('namespaces');
  if (namespaced >= 0 && last === namespaced + 3 && segments[namespaced + 2] !== 'pods') {
    return !READ_PLURALS.has(base);
  }
  const clusterScoped = segments.lastIndexOf('cluster-scoped-resources');
  if (clusterScoped >= 0) {
    if (last === clusterScoped + 2) return !READ_PLURALS.has(base);
    if (last === clusterScoped + 3) return !READ_PLURALS.has(segments[clusterScoped + 2] ?? '');
  }
  return false;
}

/**
 * The values of a file, and what is wrong with it: a JSON file is all or nothing; of a YAML file, the documents
 * before the first damaged one are kept (a truncated multi-document dump keeps its complete objects).
 */
function parseFile(file: string, text: string): { values: unknown[]; error?: string } {
  const trimmed = text.trimStart();
  if (file.toLowerCase().endsWith('.json') || trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return { values: [JSON.parse(text)] };
    } catch (error) {
      const line = jsonErrorLine(error, text);
      const reason = (error as Error).message.split('\n')[0]?.slice(0, 200);
      return { values: [], error: `${file}${line === undefined ? '' : `:${line}`}: invalid JSON: ${reason}` };
    }
  }
  const documents = parseAllDocuments(text);
  if (!Array.isArray(documents)) return { values: [] };
  const values: unknown[] = [];
  for (const document of documents) {
    const error = document.errors[0];
    if (error !== undefined) {
      const line = error.linePos?.[0].line ?? 1;
      // The yaml library ends its message with the position, which the file:line prefix already gives.
      const reason = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
      return { values, error: `${file}:${line}: invalid YAML: ${reason}` };
    }
    values.push(document.toJS({ maxAliasCount: -1 }));
  }
  return { values };
}

/**
 * The line of a JSON syntax error. V8 on Node 20 often names no position ("Unexpected token '}', ... is not valid
 * JSON"), so the text is parsed again as YAML (JSON is YAML 1.2), whose errors carry a line.
 */
function jsonErrorLine(error: unknown, text: string): number | undefined {
  const message = error instanceof Error ? error.message : '';
  const line = /line (\d+) column/.exec(message);
  if (line !== null) return Number(line[1]);
  const position = /at position (\d+)/.exec(message);
  if (position !== null) return text.slice(0, Number(position[1])).split('\n').length;
  return parseDocument(text).errors[0]?.linePos?.[0].line;
}

/** Lines as `kubectl logs` prints them: without the kubelet timestamps that must-gather asked for. */
function logLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  const first = lines.find((line) => line !== '');
  if (first === undefined || !KUBELET_TIMESTAMP.test(first)) return lines;
  return lines.map((line) => line.replace(KUBELET_TIMESTAMP, ''));
}
