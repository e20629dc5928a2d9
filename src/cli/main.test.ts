import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { VERSION } from '../version.js';
import { renderCliReference } from './cli-reference.js';
import type { CliIo } from './io.js';
import { main } from './main.js';

function capture(): { io: CliIo; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: new Writable({ write: (chunk, _e, done) => ((out += String(chunk)), done()) }),
    stderr: new Writable({ write: (chunk, _e, done) => ((err += String(chunk)), done()) }),
    env: {},
    stdoutIsTTY: false,
    stderrIsTTY: false,
    waitForInterrupt: () => new Promise(() => {}),
  };
  return { io, out: () => out, err: () => err };
}

describe('main', () => {
  it('prints the version and exits 0', async () => {
    const { io, out } = capture();
    assert.equal(await main(['--version'], io), 0);
    assert.equal(out().trim(), VERSION);
  });

  it('answers an unknown command with exit 2 and a hint', async () => {
    const { io, err } = capture();
    assert.equal(await main(['no-such-command'], io), 2);
    assert.match(err(), /unknown command 'no-such-command'/);
    assert.match(err(), /--help/);
  });

  it('keeps the version in step with package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    assert.equal(VERSION, pkg.version);
  });

  it('keeps docs/CLI.md in step with --help (npm run docs regenerates it)', () => {
    const committed = readFileSync(new URL('../../docs/CLI.md', import.meta.url), 'utf8');
    assert.equal(committed, renderCliReference());
  });
});
