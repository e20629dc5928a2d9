// The shape of a message: what stays when the names, UIDs, numbers and quoted values that differ from one pod to
// the next are replaced by placeholders, so that ten thousand "Failed to pull image ..." events group as one row.

const RULES: Array<[RegExp, string]> = [
  // UUIDs first: they contain digit runs the number rule would otherwise split.
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uid>'],
  // Container and sandbox IDs (64 hex), image digests.
  [/\bsha256:[0-9a-f]{64}\b/gi, '<digest>'],
  [/\b[0-9a-f]{32,64}\b/gi, '<id>'],
  // Launcher and migration pod names: virt-launcher-<vmi>-<5 chars>.
  [/\bvirt-launcher-[a-z0-9.-]+/g, 'virt-launcher-<pod>'],
  [/\bkubevirt-(evacuation|workload-update|migrate-vm)-[a-z0-9]+/g, 'kubevirt-$1-<id>'],
  [/\bpvc-[0-9a-z-]+/g, 'pvc-<id>'],
  // Quoted values: image references, volume names, sandbox names.
  [/"[^"]*"/g, '"<value>"'],
  // Unquoted image references (registry host with a dot, then a path): "reading manifest 41 in quay.io/x/y".
  [/(?<![\w/.-])[a-z0-9-]+(?:\.[a-z0-9-]+)+(?::\d+)?\/[\w./-]+(?::[\w.-]+)?/g, '<image>'],
  // namespace/name of the object a line is about: "for vmi finance-vms/rhel9-db".
  [/(?<![\w/.<-])[a-z0-9][a-z0-9-]*\/[a-z0-9<][a-z0-9.<>-]*/g, '<namespace>/<name>'],
  [/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g, '<ip>'],
  [/\b\d{4}-\d{2}-\d{2}T[\d:.]+Z?\b/g, '<time>'],
  [/\b\d+(?:\.\d+)?(?:[KMGT]i?|m|s|ms|µs|ns)?\b/g, '<n>'],
];

export function messageShape(message: string): string {
  let shape = message.trim();
  for (const [pattern, replacement] of RULES) shape = shape.replace(pattern, replacement);
  return shape.replace(/\s+/g, ' ').slice(0, 300);
}

/**
 * messageShape, remembered for the messages seen most recently: a hundred thousand launchers and their events repeat
 * a few messages (one per image, per registry error), and the dozen rules cost more than parsing the pod. Bounded:
 * past `capacity` distinct messages it starts over, so unique messages cost no more than before.
 */
export class MessageShapes {
  readonly #shapes = new Map<string, string>();
  readonly #capacity: number;

  constructor(capacity = 4096) {
    this.#capacity = capacity;
  }

  of(message: string): string {
    let shape = this.#shapes.get(message);
    if (shape === undefined) {
      shape = messageShape(message);
      if (this.#shapes.size >= this.#capacity) this.#shapes.clear();
      this.#shapes.set(message, shape);
    }
    return shape;
  }
}
