import { z } from 'zod';
import { addBackgroundJob } from '@/db/background-jobs';
import { getDb } from '@/db/client';
import { findTaskPause, releaseHeldSagas, releaseJobKey, RELEASE_PAUSED_TASK } from '@/db/pauses';
import { getEnv } from '@/lib/env';
import { logger } from '@/server/logger';
import { TASKS } from '@/lib/saga/model';

const payloadSchema = z.object({ task: z.enum(TASKS) });

/**
 * The release after a resume, as a graphile-worker job (so it survives restarts and runs on
 * whichever worker is free): each run puts RXSAGA_RESUME_RATE held sagas back on the queue and,
 * while more wait, runs again a second later. Paused again meanwhile: it stops, and the sagas
 * keep waiting for the next resume.
 */
export async function releasePausedSagas(rawPayload: unknown): Promise<void> {
  const parsed = payloadSchema.safeParse(rawPayload);
  if (!parsed.success) {
    logger.error({ payload: rawPayload }, 'malformed release job dropped');
    return;
  }
  const { task } = parsed.data;
  const rate = getEnv().RXSAGA_RESUME_RATE;
  await getDb().transaction(async (tx) => {
    if (await findTaskPause(tx, task)) return;
    const { released, more } = await releaseHeldSagas(tx, task, rate);
    if (more) {
      await addBackgroundJob(
        tx,
        RELEASE_PAUSED_TASK,
        { task },
        {
          key: releaseJobKey(task),
          delaySeconds: 1,
        },
      );
    }
    logger.info(
      { task, released, more, event: 'pause.released' },
      `released ${released} held sagas`,
    );
  });
}
