// The benchmark's load generator, run in its own process (never in the server's): autocannon's API, so that every
// request's body can differ (`[<id>]` replaced by a counter: a different workload per decision). Prints autocannon's
// JSON result. Usage: node bench/load-generator.mjs URL CONNECTIONS SECONDS BODY_FILE [METHOD]
// (METHOD defaults to POST; GET sends no body; BODY_FILE '-' means none). LOAD_HEADERS (JSON) adds request headers.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const [url, connections, seconds, bodyFile, method = 'POST'] = process.argv.slice(2);
const template = bodyFile === '-' ? '' : readFileSync(bodyFile, 'utf8');
const parts = template.split('[<id>]');
let n = 0;
const result = await autocannon({
  url,
  connections: Number(connections),
  duration: Number(seconds),
  method,
  headers: { 'content-type': 'application/json', ...JSON.parse(process.env.LOAD_HEADERS ?? '{}') },
  requests: [{ setupRequest: (req) => (method === 'GET' ? req : { ...req, body: parts.length === 1 ? template : parts.join(`${process.pid}-${(n++).toString(36)}`) }) }],
});
process.stdout.write(JSON.stringify(result));
