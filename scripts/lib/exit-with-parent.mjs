// Preloaded (node --import) into the children of `npm start`. When the supervisor dies without
// stopping them (kill -9), they would keep the port and the database busy forever; instead
// they notice they were re-parented and stop themselves gracefully.
const parent = process.ppid;
const timer = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(timer);
  process.kill(process.pid, 'SIGTERM');
}, 1000);
timer.unref();
