// Preloaded (node --import) into a process npm start runs in a process group of its own, whose stdin
// is a pipe from npm start: when that pipe ends, npm start has gone, however it went (kill -9
// included), and the process stops as on a SIGTERM instead of holding its ports for the next run.
// Node preloads it into worker threads too, whose stdin is not that pipe.
import { isMainThread } from 'node:worker_threads';

if (isMainThread) {
  process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM'));
  process.stdin.resume();
  process.stdin.unref();
}
