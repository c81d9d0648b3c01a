// Preloaded (NODE_OPTIONS=--import=file:///…/process-probe.mjs?out=<prefix>) into the processes
// `npm run soak` starts: every few seconds this process writes its own figures to
// `<prefix>.<pid>.json` (written whole, then renamed, so a reader never sees half a file):
// resident memory, heap, and the event-loop delay measured by Node itself since the last write.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { renameSync, writeFileSync } from 'node:fs';

const params = new URL(import.meta.url).searchParams;
const prefix = params.get('out');
const everyMs = Number(params.get('everyMs') ?? 5000);
if (prefix) {
  const file = `${prefix}.${process.pid}.json`;
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const timer = setInterval(() => {
    const memory = process.memoryUsage();
    const figures = {
      pid: process.pid,
      name: process.env.RXSAGA_PROCESS ?? null,
      at: Date.now(),
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      loopDelayP50Ms: delay.percentile(50) / 1e6,
      loopDelayP99Ms: delay.percentile(99) / 1e6,
      loopDelayMaxMs: delay.max / 1e6,
    };
    delay.reset();
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify(figures));
      renameSync(`${file}.tmp`, file);
    } catch {
      // the soak's directory is gone: it is over
    }
  }, everyMs);
  timer.unref();
}
