// The elector against the simulator's Leases, with an injected clock: no test waits for a lease to expire.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { applyServeBase, simKubeApi } from '../../test/helpers/incident-crd.js';
import type { Clock } from '../cluster/clock.js';
import type { KubeApi } from '../cluster/kube-api.js';
import { type RunningSimulator, startSimulator } from '../sim/index.js';
import { checkTiming, LeaderElector, type LeaderElectorOptions, type Lease } from './leader-election.js';

const NAMESPACE = 'stuckfailed';
const TIMING = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** Time that moves only when told to; sleeps end when it passes their deadline. */
class ManualClock implements Clock {
  #now = 0;
  #sleepers: Array<{ until: number; resolve: () => void }> = [];

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const sleeper = { until: this.#now + ms, resolve };
      this.#sleepers.push(sleeper);
      signal?.addEventListener(
        'abort',
        () => {
          this.#sleepers = this.#sleepers.filter((other) => other !== sleeper);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  get sleeping(): number {
    return this.#sleepers.length;
  }

  advance(ms: number): void {
    this.#now += ms;
    const due = this.#sleepers.filter((sleeper) => sleeper.until <= this.#now);
    this.#sleepers = this.#sleepers.filter((sleeper) => sleeper.until > this.#now);
    for (const sleeper of due) sleeper.resolve();
  }
}

let sim: RunningSimulator;
let api: KubeApi;
let wall = Date.UTC(2026, 10, 29, 9, 0, 0);

before(async () => {
  sim = await startSimulator({ scenario: 'healthy', namespaces: 1, nodes: 1 });
  await applyServeBase(sim);
  api = simKubeApi(sim);
});
after(async () => {
  api.close();
  await sim.close();
});

function elector(
  identity: string,
  clock: ManualClock,
  name: string,
  extra: Partial<LeaderElectorOptions> = {},
): LeaderElector {
  return new LeaderElector({
    api,
    namespace: NAMESPACE,
    name,
    identity,
    ...TIMING,
    clock,
    wallNow: () => {
      wall += 1;
      return new Date(wall);
    },
    random: () => 0,
    onStartedLeading: () => undefined,
    onStoppedLeading: () => undefined,
    ...extra,
  });
}

async function lease(name: string): Promise<Lease> {
  const found = await api.get<Lease>('leases', name, NAMESPACE);
  assert.ok(found, `lease ${name}`);
  return found;
}

/** Lets the event loop run until `condition` holds (requests to the simulator are real). */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 2_000; turn += 1) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  assert.fail(`never: ${what}`);
}

describe('LeaderElector.tryAcquireOrRenew', () => {
  it('acquires a free lease, renews it, and others cannot take it before it expires', async () => {
    const [clockA, clockB] = [new ManualClock(), new ManualClock()];
    const a = elector('replica-a', clockA, 'renew');
    const b = elector('replica-b', clockB, 'renew');
    assert.equal(await a.tryAcquireOrRenew(), true);
    const acquired = await lease('renew');
    assert.equal(acquired.spec?.holderIdentity, 'replica-a');
    assert.equal(acquired.spec?.leaseDurationSeconds, 15);
    assert.equal(acquired.spec?.leaseTransitions, 0);
    assert.match(acquired.spec?.renewTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    assert.equal(await b.tryAcquireOrRenew(), false);
    clockA.advance(2_000);
    clockB.advance(14_000);
    assert.equal(await a.tryAcquireOrRenew(), true);
    const renewed = await lease('renew');
    assert.equal(renewed.spec?.acquireTime, acquired.spec?.acquireTime, 'a renewal keeps acquireTime');
    assert.notEqual(renewed.spec?.renewTime, acquired.spec?.renewTime);
    assert.equal(renewed.spec?.leaseTransitions, 0);
    // B saw the record change (a renewal) just now: the lease runs for another leaseDuration from here.
    clockB.advance(14_000);
    assert.equal(await b.tryAcquireOrRenew(), false);
    assert.equal(b.holder, 'replica-a');
  });

  it('takes over a lease not renewed for leaseDuration, counting the transition', async () => {
    const [clockA, clockB] = [new ManualClock(), new ManualClock()];
    const a = elector('replica-a', clockA, 'takeover');
    const b = elector('replica-b', clockB, 'takeover');
    assert.equal(await a.tryAcquireOrRenew(), true);
    assert.equal(await b.tryAcquireOrRenew(), false);
    clockB.advance(15_001);
    assert.equal(await b.tryAcquireOrRenew(), true);
    const taken = await lease('takeover');
    assert.equal(taken.spec?.holderIdentity, 'replica-b');
    assert.equal(taken.spec?.leaseTransitions, 1);
    assert.equal(await a.tryAcquireOrRenew(), false, 'the old holder sees the new one and backs off');
    assert.equal(a.holder, 'replica-b');
  });

  it('of replicas acquiring at the same moment exactly one wins, for a new lease and for an expired one', async () => {
    const clocks = Array.from({ length: 6 }, () => new ManualClock());
    const electors = clocks.map((clock, index) => elector(`replica-${index}`, clock, 'race'));
    const first = await Promise.all(electors.map((candidate) => candidate.tryAcquireOrRenew()));
    assert.equal(first.filter(Boolean).length, 1);
    const holder = (await lease('race')).spec?.holderIdentity;
    assert.equal(holder, `replica-${first.indexOf(true)}`);
    // Everyone else observed the lease; once it expires for all of them, the others race again.
    const others = electors.filter((_, index) => !first[index]);
    for (const clock of clocks) clock.advance(20_000);
    const second = await Promise.all(others.map((candidate) => candidate.tryAcquireOrRenew()));
    assert.equal(second.filter(Boolean).length, 1);
    assert.equal((await lease('race')).spec?.leaseTransitions, 1);
  });
});

describe('LeaderElector.run', () => {
  it('leads, stops leading once another holds the lease, and hands over on release', async () => {
    const events: string[] = [];
    const [clockA, clockB] = [new ManualClock(), new ManualClock()];
    const on = (who: string) => ({
      onStartedLeading: () => events.push(`${who} leads`),
      onStoppedLeading: () => events.push(`${who} stops`),
    });
    const a = elector('replica-a', clockA, 'run', on('a'));
    const b = elector('replica-b', clockB, 'run', on('b'));
    const stopA = new AbortController();
    const stopB = new AbortController();
    const runA = a.run(stopA.signal);
    await until(() => a.leading && clockA.sleeping === 1, 'A leads');
    const runB = b.run(stopB.signal);
    await until(() => clockB.sleeping === 1, 'B waits');
    assert.equal(b.leading, false);

    // A renews on each retry period.
    clockA.advance(2_000);
    await until(() => clockA.sleeping === 1 && clockA.now() === 2_000, 'A renewed');
    assert.equal((await lease('run')).spec?.holderIdentity, 'replica-a');

    // A stops: it releases the lease, and B takes it on its next try, without waiting for it to expire.
    stopA.abort();
    await runA;
    assert.equal((await lease('run')).spec?.holderIdentity, '');
    clockB.advance(2_000);
    await until(() => b.leading, 'B leads');
    assert.deepEqual(events, ['a leads', 'a stops', 'b leads']);
    assert.equal((await lease('run')).spec?.leaseTransitions, 1);

    // Someone else writes the lease over B's (an operator, a replica with a skewed clock): B stops acting.
    const current = await lease('run');
    await api.replace<Lease>('leases', { ...current, spec: { ...current.spec, holderIdentity: 'intruder' } });
    await until(() => clockB.sleeping === 1, 'B sleeping');
    clockB.advance(2_000);
    await until(() => !b.leading, 'B stops');
    assert.deepEqual(events, ['a leads', 'a stops', 'b leads', 'b stops']);
    stopB.abort();
    await runB;
  });

  it('a leader that cannot renew for renewDeadline stops leading', async () => {
    const events: string[] = [];
    const clock = new ManualClock();
    let failing = false;
    const failingApi = new Proxy(api, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) =>
          failing ? Promise.reject(new Error('connection refused')) : value.apply(target, args);
      },
    });
    const errors: unknown[] = [];
    const a = elector('replica-a', clock, 'deadline', {
      api: failingApi,
      onStartedLeading: () => events.push('leads'),
      onStoppedLeading: () => events.push('stops'),
      onError: (error) => errors.push(error),
    });
    const stop = new AbortController();
    const run = a.run(stop.signal);
    await until(() => a.leading && clock.sleeping === 1, 'leads');
    failing = true;
    for (let elapsed = 0; elapsed < 8_000; elapsed += 2_000) {
      clock.advance(2_000);
      await until(() => clock.sleeping === 1 && errors.length === elapsed / 2_000 + 1, 'a failed renewal');
      assert.equal(a.leading, true, `still leading after ${elapsed + 2_000} ms`);
    }
    clock.advance(2_000);
    await until(() => !a.leading, 'stops at the renew deadline');
    assert.deepEqual(events, ['leads', 'stops']);
    stop.abort();
    await run;
  });

  it('refuses timings client-go refuses', () => {
    assert.throws(
      () => checkTiming({ ...TIMING, renewDeadlineMs: 15_000 }),
      /--lease-duration must be greater/,
    );
    assert.throws(() => checkTiming({ ...TIMING, retryPeriodMs: 9_000 }), /--renew-deadline must be greater/);
    assert.doesNotThrow(() => checkTiming(TIMING));
  });
});
