// Who may open an approval gate, and when it is open: pure rules, shared by the workflow (the
// Update's validator and the gate) and the plan (`plan show`). No I/O, so workflow code may use it.
import { count } from '../common/count.js';

/** A gate's rule, from the plan's `options.approvals` entry. */
export interface GatePolicy {
  /** The names that may approve; undefined: anyone (the single-operator lab, plans written before #23). */
  approvers?: string[];
  /** How many different people must approve before the gate opens (default 1). */
  minApprovals: number;
  /** May the person who started the run approve it? */
  starterMayApprove: boolean;
}

/** One approval, as the gate keeps it (the decision log keeps it too). */
export interface GivenApproval {
  actor: string;
  /** The Temporal client identity the caller declared (self-declared: see README, "Two-person approval"). */
  identity?: string;
}

/** A gate named only by its step id: one approval from anyone, the behaviour before #23. */
export const ANYONE_ONCE: GatePolicy = { minApprovals: 1, starterMayApprove: true };

/**
 * The default for `starterMayApprove`: the person who started the run may not approve
 * remove-replication when the plan names approvers (a second person checks the point of no
 * return); everywhere else, and when nobody is named (the single-operator lab), they may.
 */
export function defaultStarterMayApprove(gate: string, approvers: string[] | undefined): boolean {
  return !(gate === 'remove-replication' && approvers !== undefined && approvers.length > 0);
}

/** Names compare as people type them: case and surrounding blanks do not matter. */
export const samePerson = (a: string, b: string): boolean => a.trim().toLowerCase() === b.trim().toLowerCase();

/** Approvals still needed to open the gate. */
export const approvalsMissing = (policy: GatePolicy, given: readonly GivenApproval[]): number =>
  Math.max(0, policy.minApprovals - given.length);

export const gateOpen = (policy: GatePolicy, given: readonly GivenApproval[]): boolean =>
  approvalsMissing(policy, given) === 0;

/**
 * The named approvers who may still approve (not yet approved, not the starter when excluded); undefined: anyone not
 * yet counted.
 */
export function mayStillApprove(
  policy: GatePolicy,
  given: readonly GivenApproval[],
  starter?: string,
): string[] | undefined {
  if (!policy.approvers) return undefined;
  return policy.approvers.filter(
    (name) =>
      !given.some((g) => samePerson(g.actor, name)) &&
      !(starter !== undefined && !policy.starterMayApprove && samePerson(name, starter)),
  );
}

/** "bob or carol", "anyone except alice (who started the run) and those who approved (bob)". */
export function whoMayStillApprove(policy: GatePolicy, given: readonly GivenApproval[], starter?: string): string {
  const names = mayStillApprove(policy, given, starter);
  if (names)
    return names.length === 0
      ? 'nobody named in the plan'
      : names.length === 1
        ? names[0]!
        : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
  const excluded = [
    ...(starter !== undefined && !policy.starterMayApprove ? [`${starter} (who started the run)`] : []),
    ...(given.length > 0 ? [`those who approved (${given.map((g) => g.actor).join(', ')})`] : []),
  ];
  return excluded.length ? `anyone except ${excluded.join(' and ')}` : 'anyone';
}

/**
 * Why `actor` may not approve now, saying who may; undefined when the approval counts. `starter`
 * is who started the run (the workflow's requestedBy).
 */
export function approvalProblem(
  gate: string,
  policy: GatePolicy,
  given: readonly GivenApproval[],
  actor: string,
  starter?: string,
): string | undefined {
  const still = () =>
    `${count(approvalsMissing(policy, given), 'more approval')} ` +
    `needed, from ${whoMayStillApprove(policy, given, starter)}`;
  if (gateOpen(policy, given)) return `gate ${gate} already has its ${count(policy.minApprovals, 'approval')}`;
  if (given.some((g) => samePerson(g.actor, actor))) {
    return `${actor} has already approved ${gate}: each approval must come from a different person; ${still()}`;
  }
  if (starter !== undefined && !policy.starterMayApprove && samePerson(actor, starter)) {
    return (
      `${actor} started this run and may not also approve ${gate} (the plan's starterMayApprove is false` +
      `${policy.approvers ? ', the default for remove-replication when approvers are named' : ''}); ${still()}`
    );
  }
  if (policy.approvers && !policy.approvers.some((name) => samePerson(name, actor))) {
    return (
      `${actor} is not an approver of ${gate} (options.approvals names ${policy.approvers.join(', ')}); ` + `${still()}`
    );
  }
  return undefined;
}

/** The gate's line in the step table: "1 of 2 approvals (alice); may still approve: bob or carol". */
export function approvalNote(policy: GatePolicy, given: readonly GivenApproval[], starter?: string): string {
  const who = given.length ? ` (${given.map((g) => g.actor).join(', ')})` : '';
  const head = `${given.length} of ${count(policy.minApprovals, 'approval')}${who}`;
  return gateOpen(policy, given)
    ? `${head}: approved`
    : `${head}; may still approve: ${whoMayStillApprove(policy, given, starter)}`;
}

/** The plan's view of a gate for `plan show`: "remove-replication (2 of alice, bob, carol; not the starter)". */
export function describeGate(gate: string, policy: GatePolicy): string {
  if (!policy.approvers && policy.minApprovals === 1 && policy.starterMayApprove) return gate;
  const who = policy.approvers
    ? `${policy.minApprovals} of ${policy.approvers.join(', ')}`
    : `${policy.minApprovals} different people`;
  return `${gate} (${who}; ${policy.starterMayApprove ? 'the starter may approve' : 'not the starter'})`;
}
