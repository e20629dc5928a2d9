import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { VERSION } from '../version.js';
import { renderCliReference } from './cli-reference.js';
import { main } from './main.js';
import { memoryIo } from './memory-io.js';

describe('main', () => {
  it('prints the version and exits 0', async () => {
    const { io, stdout } = memoryIo();
    assert.equal(await main(['--version'], io), 0);
    assert.equal(stdout().trim(), VERSION);
  });

  it('answers an unknown command with exit 2 and a hint', async () => {
    const { io, stderr } = memoryIo();
    assert.equal(await main(['no-such-command'], io), 2);
    assert.match(stderr(), /unknown command 'no-such-command'/);
    assert.match(stderr(), /--help/);
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
