#!/usr/bin/env node
// Launcher: runs the CLI as built JavaScript (dist/agent, rebuilt first when a source changed; see build/launch.mjs),
// or from the TypeScript sources through tsx where no build can be made.
import * as nodeModule from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Before anything else is loaded: see COMPILE_CACHE in build/launch.mjs.
// (Node 22.1 and later; an older Node runs on without it.)
nodeModule.enableCompileCache?.(join(process.env.PALISADE_DIST ? resolve(process.env.PALISADE_DIST) : fileURLToPath(new URL('../../dist', import.meta.url)), '.compile-cache'));
const { load } = await import('../../build/launch.mjs');

const { main } = await load('agent');
process.exitCode = await main(process.argv.slice(2));
