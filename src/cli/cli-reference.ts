import { buildProgram } from './main.js';
import { memoryIo } from './memory-io.js';

/**
 * docs/CLI.md, generated from the commands' own --help so that the reference cannot drift from the code
 * (a test compares the committed file with this output; `npm run docs` rewrites it).
 */
export async function renderCliReference(): Promise<string> {
  const program = await buildProgram({ io: memoryIo().io, setExitCode: () => {} });
  program.configureHelp({ helpWidth: 100 });
  const sections = [
    '# CLI reference',
    '',
    'Generated from `--help` by `npm run docs`; a test keeps it in step with the code.',
    'Exit codes: 0 success; 1 the checked condition does not hold; 2 usage or input error;',
    '3 cluster or Prometheus unreachable or forbidden.',
    '',
    '## stuckfailed',
    '',
    '```',
    program.helpInformation().trimEnd(),
    '```',
  ];
  for (const command of program.commands) {
    command.configureHelp({ helpWidth: 100 });
    sections.push(
      '',
      `## stuckfailed ${command.name()}`,
      '',
      '```',
      command.helpInformation().trimEnd(),
      '```',
    );
  }
  return `${sections.join('\n')}\n`;
}
