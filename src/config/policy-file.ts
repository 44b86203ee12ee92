import { readFileSync, statSync } from 'node:fs';
import { type Authorizer, type Policy, parsePolicy, policyAuthorizer } from '../domain/policy.js';

/** How often the policy file is checked for changes: a revoked grant takes effect within this time. */
export const policyReloadMs = 5_000;

/** Raised at start when the policy file cannot be read or is not valid. */
export class PolicyFileError extends Error {}

function readPolicy(path: string): Policy {
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new PolicyFileError(`HERALD_POLICY: cannot read ${path} as JSON: ${(error as Error).message}`);
  }
  const parsed = parsePolicy(document);
  if (!parsed.ok) {
    throw new PolicyFileError(`HERALD_POLICY: ${path} is not valid:\n${parsed.errors.map((e) => `  - ${e.field} ${e.message}`).join('\n')}`);
  }
  return parsed.value;
}

/**
 * The policy in `HERALD_POLICY`, read at start (an invalid file stops Herald) and read again whenever the file
 * changes, so grants can be given and revoked without a restart. A changed file that is not valid is reported
 * and ignored: the last valid policy stays in force.
 */
export class PolicyFile {
  private policy: Policy;
  private modified: number;
  private timer: NodeJS.Timeout | undefined;
  readonly authorizer: Authorizer;

  constructor(
    private readonly path: string,
    private readonly onInvalid: (error: Error) => void = () => {},
  ) {
    this.policy = readPolicy(path);
    this.modified = statSync(path).mtimeMs;
    this.authorizer = policyAuthorizer(() => this.policy);
  }

  /** Reads the file again if it changed. */
  refresh(): void {
    try {
      const modified = statSync(this.path).mtimeMs;
      if (modified === this.modified) return;
      this.policy = readPolicy(this.path);
      this.modified = modified;
    } catch (error) {
      this.onInvalid(error as Error);
    }
  }

  start(): void {
    this.timer = setInterval(() => this.refresh(), policyReloadMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
