/**
 * Failure groups: the sagas needing intervention, grouped by the task they are stuck on, the
 * kind of failure and their error with the parts that differ per saga taken out (ids, numbers,
 * quoted values), so one cause is one group: "carrier gateway timeout (504) for ORD-1" and
 * "… for ORD-2" are the same group. Pure: the API, the dashboard and bulk operations' groupId
 * filter all use these functions.
 */

/** retries-exhausted: attempts ran out; stalled: no progress and no job; failed: a step or
 * compensation failed outright (say, an injected fault); other: a reason of another shape. */
export type FailureKind = 'retries-exhausted' | 'stalled' | 'failed' | 'other';

export interface FlaggedSaga {
  sagaId: string;
  orderId: string;
  /** The task the saga is stuck on (its current task); null if it has none. */
  task: string | null;
  reason: string | null;
  /** When it was flagged. */
  since: Date | null;
}

export interface FailureGroup {
  groupId: string;
  task: string | null;
  kind: FailureKind;
  /** The normalised error: what every saga of the group has in common. */
  error: string;
  count: number;
  firstSeenAt: string | null;
  lastSeenAt: string | null;
  /** One saga of the group, with its error as it was (the most recently flagged). */
  sample: { sagaId: string; orderId: string; reason: string | null };
}

/** The reasons the engine writes (lib/saga/decide.ts, jobs/sweeper.ts, jobs/run-saga-task.ts). */
const EXHAUSTED = /^\S+ failed after \d+ attempts: ([\s\S]*)$/;
const STALLED = /^stalled: ([\s\S]*)$/;
const FAILED = /^\S+ failed: ([\s\S]*)$/;

export function classifyReason(reason: string | null): { kind: FailureKind; error: string } {
  const text = reason ?? '';
  for (const [kind, pattern] of [
    ['retries-exhausted', EXHAUSTED],
    ['stalled', STALLED],
    ['failed', FAILED],
  ] as const) {
    const match = pattern.exec(text);
    if (match) return { kind, error: normaliseError(match[1] ?? '') };
  }
  return { kind: 'other', error: normaliseError(text) };
}

const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const QUOTED = /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`|“[^”]*”/g;
/** Words with a digit and a separator or letters around it: ORD-1, PAT-1001, job:42, a1b2c3d4. */
const ID_WORD = /\b(?=[\w:.-]*\d)(?=[\w:.-]*[A-Za-z])[A-Za-z0-9]+(?:[-_:.][A-Za-z0-9]+)*\b/g;
const HEX = /\b(?:0x)?[0-9a-f]{8,}\b/gi;
/** A word prefix on an id taken out above: ORD-<id> (order ids are ORD-<uuid>). */
const PREFIXED_ID = /\b[A-Za-z]\w*[-_:.]<id>/g;
const NUMBER = /[-+]?\b\d+(?:[.,]\d+)*\b/g;

/** Takes out of an error what differs from one saga to the next, keeping the words. */
export function normaliseError(error: string): string {
  return error
    .replace(QUOTED, '<value>')
    .replace(UUID, '<id>')
    .replace(ID_WORD, '<id>')
    .replace(HEX, '<id>')
    .replace(NUMBER, '<n>')
    .replace(PREFIXED_ID, '<id>')
    .replace(/\s+/g, ' ')
    .trim();
}

/** A short stable id for a group (FNV-1a, 64 bits): the same task, kind and error, the same id. */
export function failureGroupId(task: string | null, kind: FailureKind, error: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(`${task ?? ''}\u0000${kind}\u0000${error}`)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, '0');
}

export function failureGroupOf(saga: Pick<FlaggedSaga, 'task' | 'reason'>): {
  groupId: string;
  kind: FailureKind;
  error: string;
} {
  const { kind, error } = classifyReason(saga.reason);
  return { groupId: failureGroupId(saga.task, kind, error), kind, error };
}

/** The groups, largest first (then the most recently seen). */
export function groupFailures(sagas: readonly FlaggedSaga[]): FailureGroup[] {
  const groups = new Map<string, FailureGroup & { first: number; last: number }>();
  for (const saga of sagas) {
    const { groupId, kind, error } = failureGroupOf(saga);
    const at = saga.since?.getTime() ?? Number.NaN;
    const group = groups.get(groupId);
    if (!group) {
      groups.set(groupId, {
        groupId,
        task: saga.task,
        kind,
        error,
        count: 1,
        first: at,
        last: at,
        firstSeenAt: null,
        lastSeenAt: null,
        sample: { sagaId: saga.sagaId, orderId: saga.orderId, reason: saga.reason },
      });
      continue;
    }
    group.count += 1;
    if (Number.isNaN(at)) continue;
    if (Number.isNaN(group.first) || at < group.first) group.first = at;
    if (Number.isNaN(group.last) || at > group.last) {
      group.last = at;
      group.sample = { sagaId: saga.sagaId, orderId: saga.orderId, reason: saga.reason };
    }
  }
  const iso = (ms: number) => (Number.isNaN(ms) ? null : new Date(ms).toISOString());
  return [...groups.values()]
    .map(({ first, last, ...group }) => ({
      ...group,
      firstSeenAt: iso(first),
      lastSeenAt: iso(last),
    }))
    .sort(
      (a, b) =>
        b.count - a.count ||
        (b.lastSeenAt ?? '').localeCompare(a.lastSeenAt ?? '') ||
        a.groupId.localeCompare(b.groupId),
    );
}
