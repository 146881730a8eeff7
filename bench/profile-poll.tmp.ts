// temporary: profile the 304 poll path (server here, autocannon in its own process)
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { openPglite } from '../workers/node.ts';
import { seedTenant } from './seed.ts';
const database = await openPglite();
const small = await seedTenant(database, { policies: 10, profiles: 5 });
const mode = process.argv[2] ?? '304';
const first = await small.app.request('/v1/agent/bundle', { headers: { authorization: `Bearer ${small.credential}` } });
const etag = first.headers.get('etag')!;
const url = await new Promise<string>((r) => { serve({ fetch: small.app.fetch, port: 0, hostname: '127.0.0.1' }, (i: AddressInfo) => r(`http://127.0.0.1:${i.port}/v1/agent/bundle`)); });
const headers = mode === '304' ? ['-H', `authorization=Bearer ${small.credential}`, '-H', `if-none-match=${etag}`] : ['-H', `authorization=Bearer ${small.credential}`, '-H', 'accept-encoding=gzip'];
const child = spawn(join(process.cwd(), 'node_modules/.bin/autocannon'), ['-c', '20', '-d', '6', ...headers, url], { stdio: ['ignore', 'inherit', 'inherit'] });
await new Promise((r) => child.on('close', r));
await database.close();
process.exit(0);
