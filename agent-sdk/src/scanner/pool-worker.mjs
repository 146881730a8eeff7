// Worker entry for ScanPool: the worker as built (dist/agent), like bin/palisade-agent.mjs, or through tsx from the
// sources where no build can be made.
import { load } from '../../../build/launch.mjs';

await load('agent', 'pool-worker');
