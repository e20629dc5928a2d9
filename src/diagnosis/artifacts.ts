// What diagnose collects besides the Diagnosis itself, for the support bundle (src/report writes them under the
// bundle's root): sampled pod manifests and their events, vmims, the KubeVirt CR, not-ready nodes, component log
// tails and Prometheus results. Paths are relative and use '/'; content is text (logs) or a JSON-able object.

export interface Artifact {
  /** e.g. pods/<namespace>/<pod>.json, events/<namespace>/<pod>.json, logs/<namespace>/<pod>/<container>.log */
  path: string;
  content: string | object;
}

/** Path segments come from object names: keep them to the characters Kubernetes allows in names. */
export function artifactSegment(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_') || '_';
}
