// One registry of the errors a user can meet, each with the exit code of the DESIGN contract and a message that
// says what to do. Library code throws StuckfailedError; only src/bin turns it into an exit code.

export const EXIT = {
  ok: 0,
  /** The checked condition does not hold (validate not cleared, watch --once condition met). */
  conditionNotMet: 1,
  usage: 2,
  unreachable: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const ERRORS = {
  USAGE: { exit: EXIT.usage, hint: 'run with --help to see the valid flags' },
  INPUT: { exit: EXIT.usage, hint: 'check the file or value named above' },
  // A kubeconfig that is missing or unreadable is bad input, not an unreachable cluster (DESIGN §4).
  KUBECONFIG: {
    exit: EXIT.usage,
    hint: 'point --kubeconfig (or KUBECONFIG) at a valid kubeconfig and pick a context with --context',
  },
  UNREACHABLE: {
    exit: EXIT.unreachable,
    hint: 'check that the API server is up and reachable from here (kubectl cluster-info)',
  },
  UNAUTHORIZED: { exit: EXIT.unreachable, hint: 'refresh your credentials (oc login / a new token)' },
  FORBIDDEN: {
    exit: EXIT.unreachable,
    hint: 'ask for the RBAC rule named above (the ClusterRoles in deploy/ grant what each command needs)',
  },
  PROMETHEUS: {
    exit: EXIT.unreachable,
    hint: 'check --prometheus-url and its token/CA, or leave it out to use the API only',
  },
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class StuckfailedError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StuckfailedError';
    this.code = code;
  }

  get exitCode(): ExitCode {
    return ERRORS[this.code].exit;
  }

  get hint(): string {
    return ERRORS[this.code].hint;
  }
}
