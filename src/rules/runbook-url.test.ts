import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StuckfailedError } from '../errors.js';
import {
  formatRunbookUrl,
  RUNBOOK_URL_PRESETS,
  resolveRunbookUrlTemplate,
  runbookNameFromUrl,
} from './runbook-url.js';

describe('runbook URL templates', () => {
  it('resolves the presets to upstream and OpenShift runbook locations', () => {
    assert.equal(
      formatRunbookUrl(resolveRunbookUrlTemplate('upstream'), 'VirtLauncherPodsStuckFailed'),
      'https://kubevirt.io/monitoring/runbooks/VirtLauncherPodsStuckFailed',
    );
    assert.equal(
      formatRunbookUrl(resolveRunbookUrlTemplate('openshift'), 'VirtLauncherPodsStuckFailed'),
      'https://github.com/openshift/runbooks/blob/master/alerts/openshift-virtualization-operator/VirtLauncherPodsStuckFailed.md',
    );
  });

  it('accepts a custom template with exactly one %s', () => {
    assert.equal(
      resolveRunbookUrlTemplate('https://wiki.example/runbooks/%s.html'),
      'https://wiki.example/runbooks/%s.html',
    );
  });

  for (const bad of ['https://wiki.example/runbooks/', 'https://wiki.example/%s/%s', 'upstreams']) {
    it(`refuses "${bad}" as a usage error, as KubeVirt refuses RUNBOOK_URL_TEMPLATE`, () => {
      assert.throws(
        () => resolveRunbookUrlTemplate(bad),
        (error: unknown) =>
          error instanceof StuckfailedError && error.code === 'USAGE' && /exactly one %s/.test(error.message),
      );
    });
  }

  it('finds the runbook name in a URL built from a template, and nothing in any other URL', () => {
    assert.equal(
      runbookNameFromUrl(
        RUNBOOK_URL_PRESETS.openshift,
        formatRunbookUrl(RUNBOOK_URL_PRESETS.openshift, 'Foo'),
      ),
      'Foo',
    );
    assert.equal(
      runbookNameFromUrl(RUNBOOK_URL_PRESETS.upstream, 'https://kubevirt.io/monitoring/runbooks/'),
      undefined,
    );
    assert.equal(
      runbookNameFromUrl(RUNBOOK_URL_PRESETS.upstream, 'https://example.com/runbooks/Foo'),
      undefined,
    );
    assert.equal(
      runbookNameFromUrl(RUNBOOK_URL_PRESETS.upstream, 'https://kubevirt.io/monitoring/runbooks/a/b'),
      undefined,
    );
  });
});
