import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type RunningSimulator, type StartSimulatorOptions, startSimulator } from '../../src/sim/index.js';

export interface SimulatorHandle {
  sim: RunningSimulator;
  /** A kubeconfig for the simulator (context namespace `default` unless asked otherwise). */
  kubeconfig: string;
  /** A scratch folder removed afterwards. */
  dir: string;
}

export interface WithSimulatorOptions extends StartSimulatorOptions {
  /** The kubeconfig context's namespace. */
  contextNamespace?: string;
}

/** Starts a simulator and writes its kubeconfig; stop it with the returned handle's stop(). */
export async function startTestSimulator(
  options: WithSimulatorOptions = {},
): Promise<SimulatorHandle & { stop(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'stuckfailed-sim-'));
  const sim = await startSimulator(options);
  const kubeconfig = path.join(dir, 'kubeconfig');
  try {
    await sim.writeKubeconfig(kubeconfig, { namespace: options.contextNamespace });
  } catch (error) {
    await sim.close();
    throw error;
  }
  return {
    sim,
    kubeconfig,
    dir,
    async stop() {
      await sim.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` against a fresh simulator, always closing it afterwards. */
export async function withSimulator<T>(
  options: WithSimulatorOptions,
  fn: (handle: SimulatorHandle) => Promise<T>,
): Promise<T> {
  const handle = await startTestSimulator(options);
  try {
    return await fn(handle);
  } finally {
    await handle.stop();
  }
}
