import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, link, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Header, Pack, ReadEntry } from 'tar';
import { parseAllDocuments, stringify } from 'yaml';
import type { Artifact } from '../diagnosis/artifacts.js';
import type { Diagnosis } from '../diagnosis/types.js';
import { StuckfailedError } from '../errors.js';
import { plural } from '../util/plural.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderMarkdown } from './markdown.js';
import { type RedactionCounter, redactText, redactValue } from './redact.js';
import { alertLineOf, RUNBOOK_URL } from './report-view.js';

// `diagnose --bundle FILE.tar.gz`: what the runbook's last step asks for ("open a support case, attaching the
// artifacts gathered during the diagnosis"), in one file: the reports plus the sampled manifests, events, logs,
// migrations, the KubeVirt CR and the Prometheus results, with credentials redacted before anything is written.
// The file is created 0600 (it describes the cluster), written to a temporary name and moved into place only when
// complete, so a crash never leaves a truncated bundle under the name the user asked for.

export interface WriteBundleOptions {
  diagnosis: Diagnosis;
  /** Written under their paths: text as is (logs), objects as YAML, or as JSON when the path ends in .json. */
  artifacts: Iterable<Artifact> | AsyncIterable<Artifact>;
  /** When the bundle was made: README and the entries' mtime (default: now). */
  renderedAt?: Date;
  /** Replace an existing file instead of refusing. */
  force?: boolean;
}

export interface BundleSummary {
  path: string;
  /** Entry paths in the order written (README.txt last). */
  files: string[];
  /** Values replaced by `<redacted>`. */
  redactions: number;
}

const REPORT_FILES = ['report.json', 'report.md', 'report.html'] as const;
const README = 'README.txt';
const RESERVED = new Set<string>([...REPORT_FILES, README]);
const FILE_MODE = 0o600;

export async function writeBundle(path: string, options: WriteBundleOptions): Promise<BundleSummary> {
  const force = options.force ?? false;
  if (!force && (await exists(path))) {
    throw new StuckfailedError(
      'INPUT',
      `${path} already exists; choose another name or pass --force to replace it`,
    );
  }
  const renderedAt = options.renderedAt ?? new Date();
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  // 'wx' + mode: the file is born private; a chmod after creation would leave a window where it is readable.
  const handle = await open(temporary, 'wx', FILE_MODE);
  let placed = false;
  try {
    // jobs: every in-memory entry counts as a job from the moment it is added, and Pack stops processing, even the
    // head of its queue, once `jobs` (default 4) are counted: with more than 4 entries added ahead of the consumer
    // the archive never ends (the stall of isaacs/node-tar#460, fix proposed in #461). No entry here touches the
    // file system, so there is no read-ahead to bound.
    const pack = new Pack({ gzip: true, portable: true, jobs: Number.POSITIVE_INFINITY });
    // flush: fsync before the stream closes the handle, so the rename below never publishes unwritten data.
    const written = pipeline(pack, handle.createWriteStream({ flush: true }));
    let contents: { files: string[]; redactions: number };
    try {
      contents = await addEntries(pack, options, renderedAt);
      pack.end();
    } catch (error) {
      // Stop the pipeline and wait for it, so no write races the cleanup below and no rejection goes unhandled.
      pack.destroy(error instanceof Error ? error : undefined);
      await written.catch(() => undefined);
      throw error;
    }
    await written;

    if (force) {
      await rename(temporary, path);
    } else {
      // link() fails with EEXIST when the name was taken since the check above: never overwrite without --force.
      await link(temporary, path).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'EEXIST') {
          throw new StuckfailedError('INPUT', `${path} already exists; choose another name or pass --force`, {
            cause: error,
          });
        }
        throw error;
      });
      await unlink(temporary);
    }
    placed = true;
    return { path, ...contents };
  } finally {
    if (!placed) {
      await handle.close().catch(() => undefined);
      await unlink(temporary).catch(() => undefined);
    }
  }
}

/** Adds the reports, every artifact and the README (last: it counts the redactions) to the tar stream. */
async function addEntries(
  pack: Pack,
  options: WriteBundleOptions,
  renderedAt: Date,
): Promise<{ files: string[]; redactions: number }> {
  const counter: RedactionCounter = { count: 0 };
  const files: string[] = [];
  const add = (entryPath: string, text: string) => {
    files.push(entryPath);
    pack.add(fileEntry(entryPath, text, renderedAt));
  };
  const diagnosis = redactValue(options.diagnosis, counter) as Diagnosis;
  add('report.json', renderJson(diagnosis));
  add('report.md', renderMarkdown(diagnosis));
  add('report.html', renderHtml(diagnosis));
  const seen = new Set<string>(RESERVED);
  for await (const artifact of options.artifacts) {
    const entryPath = checkedEntryPath(artifact.path, seen);
    add(entryPath, serializeArtifact(entryPath, artifact.content, counter));
  }
  add(README, readme(diagnosis, files, counter.count, renderedAt));
  return { files, redactions: counter.count };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/** An in-memory tar entry; portable mode leaves out uid/gid/user names of whoever ran the tool. */
function fileEntry(path: string, text: string, mtime: Date): ReadEntry {
  const body = Buffer.from(text, 'utf8');
  const entry = new ReadEntry(new Header({ path, mode: FILE_MODE, size: body.length, mtime, type: 'File' }));
  entry.end(body);
  return entry;
}

/** Artifact paths come from cluster data (namespace and pod names): keep them relative, inside, and unique. */
function checkedEntryPath(path: string, seen: Set<string>): string {
  const normalized = posix.normalize(path.replace(/\\/g, '/'));
  if (
    normalized.startsWith('/') ||
    normalized === '..' ||
    normalized.startsWith('../') ||
    normalized === '.'
  ) {
    throw new Error(`bundle artifact path ${JSON.stringify(path)} must be relative and inside the bundle`);
  }
  if (seen.has(normalized)) {
    throw new Error(
      `bundle artifact path ${JSON.stringify(path)} is used twice (or is a report file's name)`,
    );
  }
  seen.add(normalized);
  return normalized;
}

function serializeArtifact(path: string, content: string | object, counter: RedactionCounter): string {
  const asJson = path.endsWith('.json');
  if (typeof content !== 'string') {
    const redacted = redactValue(content, counter);
    return asJson ? `${JSON.stringify(redacted, undefined, 2)}\n` : stringify(redacted);
  }
  // A manifest handed over as text still gets the structured redaction (Secret data is base64: no text pattern
  // would find it). Anything that does not parse cleanly is treated as free text.
  if (asJson || /\.ya?ml$/.test(path)) {
    const documents = parseManifests(content, asJson);
    if (documents !== undefined) {
      const redacted = documents.map((document) => redactValue(document, counter));
      return asJson
        ? `${JSON.stringify(redacted[0], undefined, 2)}\n`
        : redacted.map((document) => stringify(document)).join('---\n');
    }
  }
  return redactText(content, counter);
}

function parseManifests(text: string, asJson: boolean): unknown[] | undefined {
  if (asJson) {
    try {
      return [JSON.parse(text)];
    } catch {
      return undefined;
    }
  }
  const documents = parseAllDocuments(text);
  if (!Array.isArray(documents) || documents.some((document) => document.errors.length > 0)) return undefined;
  return documents.map((document) => document.toJS());
}

function readme(diagnosis: Diagnosis, files: string[], redactions: number, renderedAt: Date): string {
  const byFolder = new Map<string, number>();
  for (const file of files) {
    if (RESERVED.has(file)) continue;
    const folder = file.includes('/') ? `${file.slice(0, file.indexOf('/'))}/` : file;
    byFolder.set(folder, (byFolder.get(folder) ?? 0) + 1);
  }
  const width = Math.max(12, ...[...byFolder.keys()].map((folder) => folder.length)) + 2;
  const folders = [...byFolder.entries()].map(
    ([folder, count]) => `  ${folder.padEnd(width)}${plural(count, 'file')}`,
  );
  const verdict = diagnosis.conditionMet ? 'condition met' : 'condition not met';
  return [
    'stuckfailed support bundle for the VirtLauncherPodsStuckFailed alert',
    '',
    `Created:  ${renderedAt.toISOString()}`,
    `Verdict:  ${plural(diagnosis.failedLaunchers, 'Failed virt-launcher pod')}, threshold ${diagnosis.threshold} (${verdict})`,
    `Alert:    ${alertLineOf(diagnosis.alert)}`,
    `Source:   ${diagnosis.source}, diagnosis generated ${diagnosis.generatedAt}`,
    `Runbook:  ${RUNBOOK_URL}`,
    '',
    'Contents',
    `  ${'report.json'.padEnd(width)}the diagnosis, JSON (schemaVersion 1, see docs/REPORT-SCHEMA.md)`,
    `  ${'report.md'.padEnd(width)}the same, in Markdown, to paste into a ticket`,
    `  ${'report.html'.padEnd(width)}the same with charts; opens offline in any browser`,
    `  ${README.padEnd(width)}this file`,
    ...folders,
    '',
    'Redactions',
    `  redactions: ${redactions}`,
    '  Replaced by <redacted> before writing: Secret data and stringData, environment variables named like',
    '  password/token/secret/key, Authorization headers, bearer tokens, kubeconfig token and client-key-data',
    '  fields, private keys, and JWT-shaped strings in logs and messages. Redaction is pattern-based:',
    '  review the files before sharing them outside your organisation.',
    '',
  ].join('\n');
}
