/**
 * A progress bar on stderr for long command-line work (replay, archive, restore, the bench):
 * redrawn in place on a terminal, a line every 10 % otherwise.
 */
export function progressBar(label: string, total: number) {
  const tty = process.stderr.isTTY;
  const started = performance.now();
  let lastDecile = -1;
  let lastDraw = 0;
  const draw = (done: number, extra = '') => {
    const now = performance.now();
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const secs = (now - started) / 1000;
    const rate = secs > 0 ? done / secs : 0;
    const text = `${label} ${bar(fraction)} ${done}/${total} ${(fraction * 100).toFixed(0)}% ${rate.toFixed(0)}/s ${extra}`;
    if (tty) {
      if (now - lastDraw < 100 && done < total) return;
      lastDraw = now;
      process.stderr.write(`\r${text.padEnd(100)}`);
    } else {
      const decile = Math.floor(fraction * 10);
      if (decile !== lastDecile) {
        lastDecile = decile;
        process.stderr.write(`${text}\n`);
      }
    }
  };
  return {
    update: draw,
    done: (extra = '') => {
      draw(total, extra);
      if (tty) process.stderr.write('\n');
    },
  };
}

function bar(fraction: number, width = 24): string {
  const full = Math.round(fraction * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}
