// Worker entry for ScanPool: registers tsx (as bin/palisade-agent.mjs does) and hands over to the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./pool-worker.ts');
