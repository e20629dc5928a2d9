import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { VERSION } from '../version.js';
import { renderCliReference } from './cli-reference.js';
import { buildProgram, commandFirst, main } from './main.js';
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

  it('registers only the command it runs, and every command for help or a typo', async () => {
    const context = { io: memoryIo().io, setExitCode: () => {} };
    const names = async (commandName?: string) =>
      (await buildProgram(context, commandName)).commands.map((command) => command.name());
    assert.deepEqual(await names('clean'), ['clean']);
    const all = await names();
    assert.deepEqual(all.slice(0, 3), ['diagnose', 'mitigate', 'clean']);
    assert.deepEqual(await names('--help'), all);
    assert.deepEqual(await names('clen'), all);
  });

  it("moves kubectl's global flags given before the command to after it, and leaves anything else alone", () => {
    assert.deepEqual(commandFirst(['-n', 'vms', '--context=prod', 'clean', '-A']), [
      'clean',
      '-n',
      'vms',
      '--context=prod',
      '-A',
    ]);
    assert.deepEqual(commandFirst(['--kubeconfig', 'k', '-nvms', 'diagnose']), [
      'diagnose',
      '--kubeconfig',
      'k',
      '-nvms',
    ]);
    // A flag's value that is also a command's name is the value (a namespace named clean).
    assert.deepEqual(commandFirst(['--namespace', 'clean', 'diagnose']), [
      'diagnose',
      '--namespace',
      'clean',
    ]);
    assert.deepEqual(commandFirst(['clean', '-n', 'vms']), ['clean', '-n', 'vms']);
    // Not a global flag: commander reports it as it stands.
    assert.deepEqual(commandFirst(['--yes', 'clean']), ['--yes', 'clean']);
    assert.deepEqual(commandFirst(['-n', 'vms']), ['-n', 'vms']);
  });

  it('a global flag before the command reaches it: an unknown --context is named', async () => {
    const { io, stderr } = memoryIo();
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'stuckfailed-main-')), 'config');
    writeFileSync(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:1"}}]\n' +
        'users: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
    );
    assert.equal(await main(['--kubeconfig', kubeconfig, '--context', 'nope', 'diagnose'], io), 2);
    assert.match(stderr(), /nope/);
  });

  it('refuses --threshold 0 on every command that takes it: the condition would always hold', async () => {
    for (const command of ['diagnose', 'mitigate', 'validate', 'watch', 'serve']) {
      const { io, stderr } = memoryIo();
      assert.equal(await main([command, '--threshold', '0'], io), 2, command);
      assert.match(
        stderr(),
        /'--threshold <n>' argument '0' is invalid\. expected a whole number >= 1/,
        command,
      );
    }
  });

  it('drops the rest of its output when the reader closes the pipe, instead of crashing', async () => {
    const { io } = memoryIo();
    const closed = new Writable({
      write: (_chunk, _encoding, done) =>
        done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE', errno: -32, syscall: 'write' })),
    });
    assert.equal(await main(['clean', '--help'], { ...io, stdout: closed }), 0);
    // The error event of the last write comes after main returns: it must find the listener still there.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(closed.listenerCount('error') > 0, true);
  });

  it('keeps the version in step with package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    assert.equal(VERSION, pkg.version);
  });

  it('keeps docs/CLI.md in step with --help (npm run docs regenerates it)', async () => {
    const committed = readFileSync(new URL('../../docs/CLI.md', import.meta.url), 'utf8');
    assert.equal(committed, await renderCliReference());
  });
});
