/**
 * A progress bar for long command-line work (replay, archive, restore, the bench loader): one
 * line redrawn in place on a terminal; on a pipe or a CI log, a line at every tenth of the way.
 */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr) {
  const tty = stream.isTTY;
  let lastTenth = -1;
  let drawn = false;
  const render = (done: number, total: number, detail: string) => {
    const width = 30;
    const ratio = total <= 0 ? 1 : Math.min(1, done / total);
    const filled = Math.round(ratio * width);
    const percent = `${(ratio * 100).toFixed(0).padStart(3)}%`;
    return `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${percent}  ${detail}`;
  };
  return {
    update(done: number, total: number, detail = `${done}/${total}`) {
      if (tty) {
        stream.write(`\r${render(done, total, detail)}`);
        drawn = true;
        return;
      }
      const tenth = total <= 0 ? 10 : Math.floor((Math.min(done, total) / total) * 10);
      if (tenth !== lastTenth) {
        lastTenth = tenth;
        stream.write(`${render(done, total, detail)}\n`);
      }
    },
    done() {
      if (tty && drawn) stream.write('\n');
    },
  };
}
