#!/usr/bin/env node
// Launcher: registers tsx so Node runs the TypeScript sources directly, then hands over to the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
