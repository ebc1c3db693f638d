/**
 * Loaded into every Parley process a chaos test starts (`node --import`). A test runner that dies
 * (a timed-out worker torn down, a killed run) cannot stop the processes it started, and one left
 * running keeps holding its bots' leases and a share of the CPU. So each process stops itself
 * once its parent is gone: gracefully first, for good if that hangs.
 */
const parent = process.ppid;
const watch = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(watch);
  process.kill(process.pid, 'SIGTERM');
  setTimeout(() => process.kill(process.pid, 'SIGKILL'), 10_000).unref();
}, 500);
watch.unref();
