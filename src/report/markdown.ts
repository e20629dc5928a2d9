import type { Diagnosis } from '../diagnosis/types.js';
import { plural } from '../util/plural.js';
import {
  buildReportView,
  formatPercent,
  languageRuns,
  objectRef,
  oneLine,
  type RankedCause,
  type ReportView,
  RUNBOOK_URL,
} from './report-view.js';

// The report for a ticket (GitHub, GitLab, Jira with Markdown): the same content as the terminal summary, as
// headings and GFM tables. Cluster-supplied text is escaped so that a message can neither break a table (`|`)
// nor inject links, HTML or emphasis.

/** Backslash-escapes the CommonMark punctuation that could start markup; `|` too, for GFM table cells. */
export function escapeMarkdown(text: string): string {
  return oneLine(text).replace(/[\\`*_[\]<>|~#&!]/g, (char) => `\\${char}`);
}

/**
 * A code span that holds any text: the fence is one backtick longer than the longest run inside (CommonMark
 * "code spans"), padded with spaces when the text starts or ends with a backtick. Pipes are escaped even here:
 * GFM splits table cells on `|` before it parses code spans.
 */
export function codeSpan(text: string): string {
  const flat = oneLine(text);
  const longestRun = Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${flat.replace(/\|/g, '\\|')}${pad}${fence}`;
}

/** A fence longer than any backtick run inside, so a hostile namespace name cannot close the block early. */
function codeFence(lines: string[]): string {
  const longestRun = Math.max(
    0,
    ...lines.flatMap((line) => line.match(/`+/g) ?? []).map((run) => run.length),
  );
  return '`'.repeat(Math.max(3, longestRun + 1));
}

function tableRow(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function table(header: string[], alignRight: boolean[], rows: string[][]): string[] {
  return [
    tableRow(header),
    tableRow(header.map((_, index) => (alignRight[index] ? '---:' : '---'))),
    ...rows.map(tableRow),
  ];
}

export function renderMarkdown(diagnosis: Diagnosis): string {
  const view = buildReportView(diagnosis);
  const status = view.firing ? '**FIRING**' : view.state === 'pending' ? '**pending**' : '**not firing**';
  const lines: string[] = [
    '# VirtLauncherPodsStuckFailed diagnosis',
    '',
    `${status}: ${escapeMarkdown(view.headline)}.`,
    '',
    `${escapeMarkdown(view.alertLine)}.`,
    '',
    ...view.notes.flatMap((note) => [`> ${escapeMarkdown(note)}.`, '']),
    ...prometheusParagraph(view),
    `Source: ${escapeMarkdown(diagnosis.source)}, generated ${escapeMarkdown(diagnosis.generatedAt)}. ` +
      `Runbook: <${RUNBOOK_URL}>.`,
    '',
    '## Causes',
    '',
  ];
  if (view.causes.length === 0) {
    lines.push(diagnosis.failedLaunchers === 0 ? 'None: no Failed launchers.' : 'None identified.', '');
  } else {
    lines.push(
      ...table(
        ['#', 'cause', 'pods', 'share', 'confidence'],
        [true, false, true, true, true],
        view.causes.map((cause) => [
          String(cause.rank),
          cause.category,
          String(cause.pods),
          formatPercent(cause.share),
          cause.confidence.toFixed(2),
        ]),
      ),
      '',
    );
    for (const cause of view.causes) lines.push(...causeSection(cause));
  }

  lines.push('## Where', '');
  for (const breakdown of view.breakdowns) {
    lines.push(`### By ${breakdown.title.replace(/s$/, '')}`, '');
    const rows = breakdown.top.map((count) => [codeSpan(count.key), String(count.count)]);
    if (breakdown.otherKeys > 0) rows.push([plural(breakdown.otherKeys, 'other'), String(breakdown.others)]);
    lines.push(...(rows.length > 0 ? table(['key', 'pods'], [false, true], rows) : ['None.']), '');
  }

  const { migrations, controlPlane } = diagnosis;
  lines.push(
    '## Migrations',
    '',
    `${migrations.inFlight} in flight, ${migrations.failed} failed${migrations.storm ? ': **migration storm**' : ''}.`,
    '',
  );
  if (migrations.topVMIs.length > 0) {
    lines.push(
      ...table(
        ['VMI', 'migrations', 'failed launchers'],
        [false, true, true],
        migrations.topVMIs.map((vmi) => [
          codeSpan(`${vmi.namespace}/${vmi.vmi}`),
          String(vmi.migrations),
          String(vmi.failedLaunchers),
        ]),
      ),
      '',
    );
  }

  lines.push('## Control plane', '');
  const versions = [
    controlPlane.namespace ? `KubeVirt in ${codeSpan(controlPlane.namespace)}` : 'KubeVirt CR not found',
    controlPlane.version ? `version ${codeSpan(controlPlane.version)}` : undefined,
    controlPlane.targetVersion && controlPlane.targetVersion !== controlPlane.version
      ? `upgrading to ${codeSpan(controlPlane.targetVersion)}`
      : undefined,
  ].filter((part) => part !== undefined);
  lines.push(`${versions.join(', ')}.`, '');
  if (controlPlane.errorBursts.length > 0) {
    lines.push(
      ...table(
        ['count', 'component', 'level', 'message shape', 'first seen', 'last seen'],
        [true, false, false, false, false, false],
        controlPlane.errorBursts.map((burst) => [
          String(burst.count),
          escapeMarkdown(burst.component),
          escapeMarkdown(burst.level),
          codeSpan(burst.shape),
          escapeMarkdown(burst.firstSeen ?? ''),
          escapeMarkdown(burst.lastSeen ?? ''),
        ]),
      ),
      '',
    );
  }

  if (diagnosis.gatherErrors.length > 0) {
    lines.push('## Warnings: partial data', '');
    for (const error of diagnosis.gatherErrors) {
      lines.push(`- **${escapeMarkdown(error.type)}**: ${escapeMarkdown(error.message)}`);
    }
    lines.push('');
  }

  lines.push('## Next steps', '');
  if (view.nextSteps.length === 0) {
    lines.push('Nothing to do: no Failed virt-launcher pods.', '');
  } else {
    // One fenced block per run of steps in the same language, so a ticket highlights (and a reader pastes) shell
    // and PromQL apart; `#` starts a comment in both.
    for (const run of languageRuns(view.nextSteps)) {
      const commands = run.steps.flatMap((step) => [`# ${oneLine(step.why)}`, oneLine(step.command)]);
      const fence = codeFence(commands);
      lines.push(`${fence}${run.language}`, ...commands, fence, '');
    }
  }
  return lines.join('\n');
}

function prometheusParagraph(view: ReportView): string[] {
  if (view.prometheus === undefined) return [];
  const { line, disagreement } = view.prometheus;
  const lines = [`${escapeMarkdown(line)}.`, ''];
  if (disagreement !== undefined) lines.push(`> **Warning:** ${escapeMarkdown(disagreement)}.`, '');
  return lines;
}

function causeSection(cause: RankedCause): string[] {
  const lines = [
    `### ${cause.rank}. ${cause.category}: ${plural(cause.pods, 'pod')} (${formatPercent(cause.share)})`,
    '',
    escapeMarkdown(cause.summary),
    '',
  ];
  if (cause.shownEvidence.length > 0) {
    lines.push(
      ...table(
        ['kind', 'object', 'reason', 'message'],
        [false, false, false, false],
        cause.shownEvidence.map((evidence) => [
          escapeMarkdown(evidence.kind),
          codeSpan(objectRef(evidence)),
          escapeMarkdown(evidence.reason ?? ''),
          escapeMarkdown(evidence.message ?? ''),
        ]),
      ),
      '',
    );
    if (cause.hiddenEvidence > 0) lines.push(`${cause.hiddenEvidence} more in the JSON report.`, '');
  }
  if (cause.remediation.length > 0) {
    lines.push(
      'Remediation:',
      '',
      ...cause.remediation.map((step, index) => `${index + 1}. ${escapeMarkdown(step)}`),
      '',
    );
  }
  return lines;
}
