import { openPglite } from '../workers/node.ts';
import { simulateInstances } from './instances.sim.ts';
const d = await openPglite();
await simulateInstances(d, { clusters: Number(process.argv[2] ?? 500), tenants: 10, minutes: Number(process.argv[3] ?? 36) });
await d.close();
