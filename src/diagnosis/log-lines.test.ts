import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupErrorBursts, isTroubleLine, parseKubevirtLogLine } from './log-lines.js';

// Line shapes from kubevirt issues #4613, #11550, #17397 (virt-handler / virt-controller JSON logs).
const HANDLER_SYNC_FAILED = (vmi: string, uid: string, at: string) =>
  JSON.stringify({
    component: 'virt-handler',
    kind: '',
    level: 'error',
    msg: 'Synchronizing the VirtualMachineInstance failed.',
    name: vmi,
    namespace: 'finance-vms',
    pos: 'vm.go:1735',
    reason: `unable to create virt-launcher client connection: Found multiple sockets for vmi finance-vms/${vmi}`,
    timestamp: at,
    uid,
  });

describe('parseKubevirtLogLine', () => {
  it('reads the fields of a KubeVirt JSON line', () => {
    const line = parseKubevirtLogLine(
      HANDLER_SYNC_FAILED('rhel9-db', '5b0a6c1e-8e3f-4a43-9a57-1e7f5f4f2a10', '2026-11-23T21:55:01.123456Z'),
    );
    assert.deepEqual(line, {
      component: 'virt-handler',
      level: 'error',
      msg: 'Synchronizing the VirtualMachineInstance failed.',
      name: 'rhel9-db',
      namespace: 'finance-vms',
      pos: 'vm.go:1735',
      reason:
        'unable to create virt-launcher client connection: Found multiple sockets for vmi finance-vms/rhel9-db',
      timestamp: '2026-11-23T21:55:01.123456Z',
      uid: '5b0a6c1e-8e3f-4a43-9a57-1e7f5f4f2a10',
    });
  });

  it('skips klog lines, blank lines, broken JSON and objects without msg or level', () => {
    assert.equal(
      parseKubevirtLogLine(
        'I1123 21:55:01.123456       1 leaderelection.go:250] attempting to acquire leader lease',
      ),
      undefined,
    );
    assert.equal(parseKubevirtLogLine(''), undefined);
    assert.equal(parseKubevirtLogLine('{"level":"info","msg":'), undefined);
    assert.equal(parseKubevirtLogLine('{"level":"info"}'), undefined);
  });
});

describe('isTroubleLine', () => {
  it('keeps errors, warnings and info lines that carry a reason (virt-controller re-enqueues)', () => {
    const requeue = parseKubevirtLogLine(
      '{"component":"virt-controller","level":"info","msg":"reenqueuing VirtualMachineInstance web-vms/fedora-01","pos":"vmi.go:262","reason":"failed to create virtual machine pod: Internal error occurred: failed calling webhook","timestamp":"2026-11-23T21:55:01.000001Z"}',
    );
    const plain = parseKubevirtLogLine(
      '{"component":"virt-controller","level":"info","msg":"Starting vmi controller.","pos":"vmi.go:120","timestamp":"2026-11-23T21:00:00.000001Z"}',
    );
    assert.ok(requeue && isTroubleLine(requeue));
    assert.ok(plain && !isTroubleLine(plain));
  });
});

describe('groupErrorBursts', () => {
  it('groups lines of one shape across VMIs and UIDs, largest burst first, with first and last seen', () => {
    const lines = [
      HANDLER_SYNC_FAILED('rhel9-db', '5b0a6c1e-8e3f-4a43-9a57-1e7f5f4f2a10', '2026-11-23T21:55:03.000000Z'),
      HANDLER_SYNC_FAILED(
        'win2k22-app',
        '8c2d1f3e-1111-4a43-9a57-1e7f5f4f2a10',
        '2026-11-23T21:55:01.000000Z',
      ),
      HANDLER_SYNC_FAILED('centos-7', '9d3e2a4f-2222-4a43-9a57-1e7f5f4f2a10', '2026-11-23T21:55:02.000000Z'),
      '{"component":"virt-controller","level":"error","msg":"Failed to update status of VMI web-vms/fedora-01","pos":"vmi.go:301","timestamp":"2026-11-23T21:55:04.000000Z"}',
      '{"component":"virt-controller","level":"info","msg":"Starting vmi controller.","pos":"vmi.go:120","timestamp":"2026-11-23T21:00:00.000001Z"}',
    ].flatMap((text) => {
      const parsed = parseKubevirtLogLine(text);
      return parsed ? [parsed] : [];
    });
    const bursts = groupErrorBursts(lines);
    assert.equal(bursts.length, 2);
    const [top, second] = bursts;
    assert.equal(top?.component, 'virt-handler');
    assert.equal(top?.count, 3);
    assert.equal(top?.firstSeen, '2026-11-23T21:55:01.000000Z');
    assert.equal(top?.lastSeen, '2026-11-23T21:55:03.000000Z');
    assert.match(
      top?.example ?? '',
      /^Synchronizing the VirtualMachineInstance failed\.: unable to create virt-launcher client connection: Found multiple sockets for vmi finance-vms\/rhel9-db$/,
    );
    assert.equal(second?.count, 1);
  });

  it('returns no burst for a quiet log', () => {
    assert.deepEqual(groupErrorBursts([]), []);
  });
});
