import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeMigration, isMigrationStorm } from './analyze-migration.js';
import { factsWith, migrationFacts, podGroup } from './facts-fixture.js';

const LOOPING = {
  namespace: 'finance-vms',
  vmi: 'rhel9-db',
  migrations: 5,
  failed: 5,
  inFlight: 0,
  failedLaunchers: 5,
  failedTargetLaunchers: 5,
};

describe('analyzeMigration', () => {
  it('claims Failed migration targets and names the looping VMIs and the evacuation wave', () => {
    const targets = podGroup({ migrationTarget: true, count: 25 });
    const facts = factsWith({
      groups: [targets],
      migrations: migrationFacts({
        total: 30,
        failed: 25,
        inFlight: 2,
        evacuation: 30,
        vmis: [LOOPING],
        failedExamples: [
          {
            kind: 'VirtualMachineInstanceMigration',
            namespace: 'finance-vms',
            name: 'kubevirt-evacuation-8xk2p',
            reason: 'Failed',
            message: 'vmi rhel9-db: Migration failed because target pod shutdown during migration',
          },
        ],
      }),
    });
    const finding = analyzeMigration(facts);
    assert.deepEqual(finding.claims, [{ groupId: targets.id, confidence: 0.8 }]);
    assert.match(
      finding.summary,
      /^Migration storm: 25 failed and 2 in-flight migrations, 1 VMIs looping \(finance-vms\/rhel9-db\); waves: 30 evacuation/,
    );
    assert.equal(finding.evidence[0]?.name, 'kubevirt-evacuation-8xk2p');
    assert.match(finding.remediation.join('\n'), /uncordon/);
    // The failed vmim is described by name; nothing suggests deleting every vmim.
    assert.match(
      finding.remediation.join('\n'),
      /kubectl describe vmim -n finance-vms kubevirt-evacuation-8xk2p\./,
    );
  });

  it('cancels the in-flight migrations one vmim at a time, naming the VMIs whose migration is in flight', () => {
    const facts = factsWith({
      groups: [podGroup({ migrationTarget: true, count: 12 })],
      migrations: migrationFacts({
        total: 14,
        failed: 12,
        inFlight: 1,
        vmis: [LOOPING, { ...LOOPING, vmi: 'rhel9-web', failed: 1, inFlight: 1, failedTargetLaunchers: 1 }],
      }),
    });
    const [cancel] = analyzeMigration(facts).remediation;
    assert.match(
      cancel ?? '',
      /^Cancel the in-flight migrations of finance-vms\/rhel9-web to stop the loop: /,
    );
    assert.match(
      cancel ?? '',
      /\(stuckfailed cancel-migrations --looping does exactly that, with preconditions; by hand: kubectl delete vmim --wait=false -n NAMESPACE NAME\)/,
    );
    assert.match(cancel ?? '', /Never kubectl delete vmim --all/);
  });

  it('names the looping VMIs when no migration is in flight right now', () => {
    const facts = factsWith({ migrations: migrationFacts({ total: 5, failed: 5, vmis: [LOOPING] }) });
    assert.match(
      analyzeMigration(facts).remediation[0] ?? '',
      /^Cancel the in-flight migrations to stop the loop of finance-vms\/rhel9-db: /,
    );
  });

  it('claims source pods whose guest-console-log exited 1 after a migration (kubevirt #10695)', () => {
    const sources = podGroup({ container: 'guest-console-log', exitCode: 1 });
    const facts = factsWith({ groups: [sources], migrations: migrationFacts({ total: 4, succeeded: 4 }) });
    assert.deepEqual(analyzeMigration(facts).claims, [{ groupId: sources.id, confidence: 0.7 }]);
  });

  it('does not claim plain start failures, nor guest-console-log exits when nothing migrated', () => {
    const groups = [podGroup(), podGroup({ container: 'guest-console-log', exitCode: 1 })];
    assert.deepEqual(analyzeMigration(factsWith({ groups })).claims, []);
  });
});

describe('isMigrationStorm', () => {
  it('needs a looping VMI and at least the cluster parallel limit of failures', () => {
    assert.equal(isMigrationStorm(migrationFacts({ failed: 5, vmis: [LOOPING] }), 0), true);
    assert.equal(isMigrationStorm(migrationFacts({ failed: 2, vmis: [LOOPING] }), 1), false);
    // Many failures spread over VMIs that each failed once: no loop, no storm.
    assert.equal(
      isMigrationStorm(
        migrationFacts({ failed: 20, vmis: [{ ...LOOPING, failed: 1, failedTargetLaunchers: 1 }] }),
        20,
      ),
      false,
    );
  });
});
