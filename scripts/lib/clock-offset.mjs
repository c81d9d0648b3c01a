// A process whose clock is wrong, for the chaos drill's clock-skew fault (docs/chaos.md).
// Preloaded as `node --import file:///…/clock-offset.mjs?offsetMs=180000 …`: from then on
// `Date.now()` and `new Date()` in this process run `offsetMs` ahead (negative: behind). This is
// what Debian's faketime does for a whole process, without a Debian package: for a Node worker
// every wall-clock read goes through `Date` (graphile-worker, postgres.js, pino, our code).
// `performance.now()` and timers are monotonic and stay as they are, as they would on a real
// machine with a wrong wall clock. The database server keeps the true time.

const RealDate = Date;
let offsetMs = 0;

/** Shifts this process's wall clock by `ms` (replacing any earlier shift). */
export function shiftClock(ms) {
  offsetMs = ms;
  if (globalThis.Date === RealDate) {
    const now = () => RealDate.now() + offsetMs;
    globalThis.Date = new Proxy(RealDate, {
      construct: (target, args, newTarget) =>
        Reflect.construct(target, args.length === 0 ? [now()] : args, newTarget),
      apply: () => new RealDate(now()).toString(),
      get: (target, prop, receiver) => (prop === 'now' ? now : Reflect.get(target, prop, receiver)),
    });
  }
}

const requested = new URL(import.meta.url).searchParams.get('offsetMs');
if (requested !== null) {
  const ms = Number(requested);
  if (!Number.isFinite(ms))
    throw new Error(`clock-offset.mjs: offsetMs must be a number, got "${requested}"`);
  shiftClock(ms);
}
