#!/usr/bin/env node
// Launcher: runs the CLI as built JavaScript (dist/agent, rebuilt first when a source changed; see build/launch.mjs),
// or from the TypeScript sources through tsx where no build can be made.
import { useCompileCache } from '../../build/dist.mjs';

useCompileCache(); // before the rest is loaded, so the cache covers it
const { load } = await import('../../build/launch.mjs');

const { main } = await load('agent');
process.exitCode = await main(process.argv.slice(2));
