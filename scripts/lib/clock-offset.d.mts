/** Shifts this process's wall clock (`Date`, `Date.now`) by `ms`; see clock-offset.mjs. */
export function shiftClock(ms: number): void;
