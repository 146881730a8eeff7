import { benchAudit } from './audit.bench.ts';
import { benchBundles } from './bundles.bench.ts';
import { benchBundlesPostgres } from './bundles-postgres.bench.ts';
import { benchCrud } from './crud.bench.ts';
import { benchEngine } from './engine.bench.ts';
import { benchFileThreat } from './file-threat.bench.ts';
import { benchRuntime } from './runtime.bench.ts';
import { benchScanner } from './scanner.bench.ts';
import { benchSignatures } from './signatures.bench.ts';
import { benchStartup } from './startup.bench.ts';
import { benchWebhook } from './webhook.bench.ts';

/** `npm run bench`: every benchmark, each reported as medians with a same-run baseline. */
const suites: Record<string, () => Promise<void>> = { bundles: benchBundles, bundlesPostgres: benchBundlesPostgres, engine: benchEngine, webhook: benchWebhook, audit: benchAudit, crud: benchCrud, signatures: benchSignatures, runtime: benchRuntime, scanner: benchScanner, fileThreat: benchFileThreat, startup: benchStartup };
const only = process.argv.slice(2);
for (const [name, run] of Object.entries(suites)) {
  if (only.length && !only.includes(name)) continue;
  console.log(`\n# ${name}`);
  await run();
}
