import { z } from 'zod';
import { TASKS, type Task } from '@/lib/saga/model';

/** A drill's faults for one task. Off (all zero) by default. */
export const faultSettingSchema = z.object({
  task: z.enum(TASKS),
  failureRate: z.number().min(0).max(1),
  transientRate: z.number().min(0).max(1),
  latencyMs: z.number().int().min(0).max(60_000),
});
export type FaultSetting = z.infer<typeof faultSettingSchema>;

export const noFaults = (task: Task): FaultSetting => ({
  task,
  failureRate: 0,
  transientRate: 0,
  latencyMs: 0,
});

export type InjectedFault = 'failure' | 'transient' | null;

/** `random` is a number in [0, 1): the caller's Math.random, or a fixed value in tests. */
export function rollFault(setting: FaultSetting, random: number): InjectedFault {
  if (random < setting.failureRate) return 'failure';
  if (random < setting.failureRate + setting.transientRate) return 'transient';
  return null;
}
