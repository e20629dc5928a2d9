import { createColors } from 'picocolors';
import type { Diagnosis } from '../diagnosis/types.js';
import { plural } from '../util/plural.js';
import {
  buildReportView,
  formatPercent,
  objectRef,
  oneLine,
  type RankedCause,
  type ReportView,
  shortKind,
  truncate,
  truncateMiddle,
  wrap,
} from './report-view.js';

// The terminal summary for the SRE paged at 3 a.m.: verdict first, then the causes with their evidence and fix,
// then where the failures are, and the commands to run next. Plain text unless told to colour (a TTY), and every
// cluster-supplied string is flattened to one line without control characters before it reaches the terminal.

export interface TextReportOptions {
  color: boolean;
  /** Line width to fit in; long messages are cut with an ellipsis. */
  width?: number;
}

const DEFAULT_WIDTH = 100;
/** Longest breakdown key shown whole; node FQDNs beyond it are cut in the middle. */
const MAX_KEY_WIDTH = 28;
const CAUSE_INDENT = '     ';

type Colors = ReturnType<typeof createColors>;
type Style = (text: string) => string;

interface Cell {
  text: string;
  style?: Style;
}

export function renderText(diagnosis: Diagnosis, options: TextReportOptions): string {
  const c = createColors(options.color);
  const width = options.width ?? DEFAULT_WIDTH;
  const view = buildReportView(diagnosis);
  const verdict =
    view.state === 'firing'
      ? c.bold(c.red('FIRING'))
      : view.state === 'pending'
        ? c.bold(c.yellow('PENDING'))
        : c.bold(c.green('NOT FIRING'));
  const lines = [
    `${c.bold('VirtLauncherPodsStuckFailed')}  ${verdict}`,
    c.bold(view.headline),
    ...wrap(oneLine(view.alertLine), width, '  ', 3),
    ...view.notes.flatMap((note) => wrap(oneLine(note), width, '  ', 4).map((text) => c.yellow(text))),
    ...prometheusLines(view, c, width),
    c.dim(`source ${diagnosis.source}, generated ${oneLine(diagnosis.generatedAt)}`),
    '',
    c.bold('Causes (most important first)'),
    ...causesLines(view, diagnosis, c, width),
    '',
    ...breakdownLines(view, c, width),
    '',
    ...migrationLines(diagnosis, c, width),
    '',
    ...controlPlaneLines(diagnosis, c, width),
    ...warningLines(diagnosis, c, width),
    '',
    c.bold('Next'),
    ...nextStepLines(view, c, width),
  ];
  return `${lines.join('\n')}\n`;
}

function prometheusLines(view: ReportView, c: Colors, width: number): string[] {
  if (view.prometheus === undefined) return [];
  const { line, disagreement } = view.prometheus;
  if (disagreement === undefined) return [line];
  const warning = wrap(oneLine(disagreement), width, '    ', 3);
  return [line, ...warning.map((text, index) => c.yellow(index === 0 ? `  ! ${text.trimStart()}` : text))];
}

function causesLines(view: ReportView, diagnosis: Diagnosis, c: Colors, width: number): string[] {
  if (view.causes.length === 0) {
    return [
      diagnosis.failedLaunchers === 0 ? '  none: no Failed launchers' : '  none identified: see the samples',
    ];
  }
  return view.causes.flatMap((cause) => causeLines(cause, c, width));
}

function causeLines(cause: RankedCause, c: Colors, width: number): string[] {
  const lines = [
    `  ${c.bold(`${cause.rank}. ${cause.category}`)}  ${plural(cause.pods, 'pod')} (${formatPercent(cause.share)})` +
      `  confidence ${cause.confidence.toFixed(2)}`,
    ...wrap(oneLine(cause.summary), width, CAUSE_INDENT, 2),
  ];
  // Evidence: which object says so on one line, what it says on the next, so the message keeps the width.
  const heads = alignColumns(
    cause.shownEvidence.map((evidence) => [
      { text: oneLine(evidence.reason ?? '-'), style: c.yellow },
      { text: `${shortKind(oneLine(evidence.kind))} ${oneLine(objectRef(evidence))}` },
    ]),
    `${CAUSE_INDENT}• `,
    width,
  );
  cause.shownEvidence.forEach((evidence, index) => {
    lines.push(heads[index] ?? '');
    if (evidence.message) {
      const indent = `${CAUSE_INDENT}    `;
      lines.push(c.dim(`${indent}${truncateMiddle(oneLine(evidence.message), width - indent.length)}`));
    }
  });
  if (cause.hiddenEvidence > 0) {
    lines.push(c.dim(`${CAUSE_INDENT}  (+${cause.hiddenEvidence} more evidence in -o json)`));
  }
  for (const step of cause.remediation) {
    const [first, ...rest] = wrap(oneLine(step), width, `${CAUSE_INDENT}  `, 3);
    lines.push(`${CAUSE_INDENT}${c.green('→')} ${(first ?? '').trimStart()}`, ...rest);
  }
  return lines;
}

/** Namespaces, nodes and reasons side by side: the runbook's three scoping queries in five lines. */
function breakdownLines(view: ReportView, c: Colors, width: number): string[] {
  const columns = view.breakdowns.map((breakdown) => {
    const cells = breakdown.top.map((count) => ({
      key: truncateMiddle(oneLine(count.key), MAX_KEY_WIDTH),
      count: String(count.count),
    }));
    if (breakdown.otherKeys > 0) {
      cells.push({ key: `+${breakdown.otherKeys} more`, count: String(breakdown.others) });
    }
    return { title: breakdown.title, cells };
  });
  const depth = Math.max(1, ...columns.map((column) => column.cells.length));
  const rows: Cell[][] = [columns.map((column) => ({ text: column.title, style: c.dim }))];
  for (let row = 0; row < depth; row += 1) {
    rows.push(
      columns.map((column) => {
        const cell = column.cells[row];
        if (cell) return { text: `${cell.key} ${cell.count}` };
        return { text: row === 0 ? '-' : '' };
      }),
    );
  }
  return [c.bold('Where'), ...alignColumns(rows, '  ', width)];
}

function migrationLines(diagnosis: Diagnosis, c: Colors, width: number): string[] {
  const { migrations } = diagnosis;
  const storm = migrations.storm ? `  ${c.bold(c.red('STORM'))}` : '';
  return [
    `${c.bold('Migrations')}  ${migrations.inFlight} in flight, ${migrations.failed} failed${storm}`,
    ...alignColumns(
      migrations.topVMIs.map((vmi) => [
        { text: oneLine(`${vmi.namespace}/${vmi.vmi}`) },
        { text: plural(vmi.migrations, 'migration') },
        { text: plural(vmi.failedLaunchers, 'failed launcher') },
      ]),
      '  ',
      width,
    ),
  ];
}

function controlPlaneLines(diagnosis: Diagnosis, c: Colors, width: number): string[] {
  const { controlPlane } = diagnosis;
  const where = controlPlane.namespace ? oneLine(controlPlane.namespace) : 'KubeVirt CR not found';
  let version = controlPlane.version ? ` ${oneLine(controlPlane.version)}` : '';
  if (controlPlane.targetVersion && controlPlane.targetVersion !== controlPlane.version) {
    // observedKubeVirtVersion != targetKubeVirtVersion is KubeVirt's own sign of an upgrade in progress.
    version += ` → ${oneLine(controlPlane.targetVersion)} ${c.yellow('(upgrade in flight)')}`;
  }
  return [
    `${c.bold('Control plane')}  ${where}${version}`,
    ...alignColumns(
      controlPlane.errorBursts.map((burst) => [
        { text: `${burst.count}×` },
        { text: oneLine(burst.component) },
        { text: oneLine(burst.level), style: burst.level === 'error' ? c.red : c.dim },
        { text: oneLine(burst.shape) },
      ]),
      '  ',
      width,
    ),
  ];
}

function warningLines(diagnosis: Diagnosis, c: Colors, width: number): string[] {
  if (diagnosis.gatherErrors.length === 0) return [];
  const lines = ['', c.bold(c.yellow(`Warnings: partial data (${diagnosis.gatherErrors.length})`))];
  for (const error of diagnosis.gatherErrors) {
    const wrapped = wrap(`${oneLine(error.type)}: ${oneLine(error.message)}`, width, '    ', 2);
    // The first line carries the "!" marker in the indent the continuation lines keep blank.
    lines.push(...wrapped.map((line, index) => c.yellow(index === 0 ? `  ! ${line.trimStart()}` : line)));
  }
  return lines;
}

function nextStepLines(view: ReportView, c: Colors, width: number): string[] {
  if (view.nextSteps.length === 0) return ['  nothing to do: no Failed virt-launcher pods'];
  return view.nextSteps.flatMap((step) => {
    // PromQL has no line continuation: an expression stays on one line.
    const command =
      step.language === 'promql'
        ? [`  PromQL: ${oneLine(step.command)}`]
        : wrapCommand(oneLine(step.command), width, '  $ ', COMMAND_INDENT);
    // Every line of the reason is a comment, so pasting the whole block runs only the commands.
    const why = wrap(oneLine(step.why), width, `${COMMAND_INDENT}# `, 3);
    return [...command.map((line) => c.cyan(line)), ...why.map((line) => c.dim(line))];
  });
}

const COMMAND_INDENT = '      ';

/**
 * Breaks a long command between shell words, never inside quotes, with a backslash at each line end: pasted, the
 * lines are one command again, whereas a command cut with an ellipsis would be useless. A single word longer than
 * the line (an awk program) stays whole.
 */
export function wrapCommand(command: string, width: number, prefix: string, indent: string): string[] {
  const lines: string[] = [];
  let current = prefix;
  let empty = true;
  for (const word of flagUnits(shellWords(command))) {
    if (!empty && current.length + 1 + word.length + 2 > width) {
      lines.push(`${current} \\`);
      current = indent;
      empty = true;
    }
    current = empty ? `${current}${word}` : `${current} ${word}`;
    empty = false;
  }
  lines.push(current);
  return lines;
}

/**
 * A flag and its separate value (`-n ns`, `-o custom-columns=…`), or awk and its program, as one unit, and a pipe
 * with the word before it: a break never parts them.
 */
function flagUnits(words: string[]): string[] {
  const units: string[] = [];
  for (let index = 0; index < words.length; index += 1) {
    const word = words[index] ?? '';
    const next = words[index + 1];
    const takesValue = /^-[^=]*$/.test(word) || word === 'awk';
    if (word === '|' && units.length > 0) {
      // A pipe ends the line it is on, where a reader looks for what comes next.
      units[units.length - 1] += ' |';
    } else if (takesValue && next !== undefined && !next.startsWith('-') && next !== '|') {
      units.push(`${word} ${next}`);
      index += 1;
    } else {
      units.push(word);
    }
  }
  return units;
}

/**
 * Splits on the spaces outside quotes and backslash escapes (POSIX sh "Quoting"; enough for the commands this
 * report builds, whose only escape is shellWord's `'\''`).
 */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: string | undefined;
  let escaped = false;
  for (const char of command) {
    if (escaped) {
      escaped = false;
    } else if (quote !== undefined) {
      if (char === quote) quote = undefined;
    } else if (char === '\\') {
      escaped = true;
    } else if (char === "'" || char === '"') {
      quote = char;
    } else if (char === ' ') {
      if (word !== '') words.push(word);
      word = '';
      continue;
    }
    word += char;
  }
  if (word !== '') words.push(word);
  return words;
}

/**
 * Pads every column but the last to its widest cell (measured before styling, so colour codes do not skew the
 * alignment) and cuts the last column to the line width.
 */
function alignColumns(rows: Cell[][], prefix: string, width: number): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, index) => {
      if (index < row.length - 1) widths[index] = Math.max(widths[index] ?? 0, cell.text.length);
    });
  }
  return rows.map((row) => {
    let used = prefix.length;
    const parts = row.map((cell, index) => {
      const last = index === row.length - 1;
      const text = last
        ? truncate(cell.text, Math.max(10, width - used))
        : cell.text.padEnd(widths[index] ?? 0);
      used += text.length + 2;
      return cell.style ? cell.style(text) : text;
    });
    return `${prefix}${parts.join('  ')}`.trimEnd();
  });
}
