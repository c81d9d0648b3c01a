import type { Database } from '@/db/client';
import { recordAudit, type AuditActor } from '@/db/audit';
import { addBackgroundJob } from '@/db/background-jobs';
import { deleteTaskPause, insertTaskPause, releaseJobKey, RELEASE_PAUSED_TASK } from '@/db/pauses';
import { invalidInput, notFound } from '@/lib/errors';
import { logger } from '@/server/logger';
import { isTask, type Task } from '@/lib/saga/model';
import { operatorActionSchema } from './operator-action';

export interface TaskPauseResult {
  task: Task;
  paused: boolean;
}

function parse(task: string, body: unknown, what: 'pause' | 'resume') {
  if (!isTask(task)) throw notFound(`unknown task ${task}`);
  const parsed = operatorActionSchema.safeParse(body);
  if (!parsed.success) throw invalidInput(parsed.error, `invalid ${what} request`);
  return { task, reason: parsed.data.reason };
}

/**
 * Holds the task: sagas that reach it wait (jobs/run-saga-task.ts), jobs already running finish.
 * Pausing a paused task changes nothing (the first pause, its reason and author stay).
 */
export async function pauseTask(
  db: Database,
  rawTask: string,
  body: unknown,
  by: AuditActor,
): Promise<TaskPauseResult> {
  const { task, reason } = parse(rawTask, body, 'pause');
  return db.transaction(async (tx) => {
    const pause = await insertTaskPause(tx, { task, reason, pausedBy: by.actor });
    if (pause) {
      await recordAudit(tx, by, { action: 'task.pause', target: task, reason, after: pause });
      logger.warn({ task, actor: by.actor, event: 'task.paused' }, `${task} paused`);
    }
    return { task, paused: true };
  });
}

/** Ends the pause; the waiting sagas are released at RXSAGA_RESUME_RATE (release-paused-sagas). */
export async function resumeTask(
  db: Database,
  rawTask: string,
  body: unknown,
  by: AuditActor,
): Promise<TaskPauseResult> {
  const { task, reason } = parse(rawTask, body, 'resume');
  return db.transaction(async (tx) => {
    const ended = await deleteTaskPause(tx, task);
    if (ended) {
      await addBackgroundJob(tx, RELEASE_PAUSED_TASK, { task }, { key: releaseJobKey(task) });
      await recordAudit(tx, by, { action: 'task.resume', target: task, reason, before: ended });
      logger.warn({ task, actor: by.actor, event: 'task.resumed' }, `${task} resumed`);
    }
    return { task, paused: false };
  });
}
