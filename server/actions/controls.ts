'use server';

import { getDb } from '@/db/client';
import { requireOperator } from '@/server/auth/guards';
import { auditActorOf } from '@/lib/auth/principal';
import { pauseTask, resumeTask, type TaskPauseResult } from '@/server/commands/task-pause';
import { refusalResult, type ActionResult } from '@/server/web/action-result';

/** Pause and resume from the Controls page: the commands of the API, the operator as actor. */
export async function pauseTaskAction(
  task: string,
  reason: string,
): Promise<ActionResult<TaskPauseResult>> {
  return runPauseCommand(pauseTask, 'task.pause', task, reason);
}

export async function resumeTaskAction(
  task: string,
  reason: string,
): Promise<ActionResult<TaskPauseResult>> {
  return runPauseCommand(resumeTask, 'task.resume', task, reason);
}

// Not exported: a 'use server' module's exports are callable from the browser.
async function runPauseCommand(
  command: typeof pauseTask | typeof resumeTask,
  action: 'task.pause' | 'task.resume',
  task: string,
  reason: string,
): Promise<ActionResult<TaskPauseResult>> {
  try {
    const principal = await requireOperator();
    return {
      ok: true,
      data: await command(getDb(), String(task), { reason }, auditActorOf(principal)),
    };
  } catch (error) {
    return refusalResult(error, action);
  }
}
