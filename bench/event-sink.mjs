// The benchmark's stand-in for the control plane's `POST /v1/agent/events`, run in its own process (its work is not
// the agent's). Reads each (gzip NDJSON) batch and acknowledges every event, or answers 503 while down. Control:
// `PUT /down`, `PUT /up`, `GET /count`. Prints its port. Usage: node bench/event-sink.mjs
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';

let down = false;
let events = 0;
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c)).on('end', () => {
    if (req.method === 'PUT') {
      down = req.url === '/down';
      return res.writeHead(204).end();
    }
    if (req.method === 'GET') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ events }));
    if (down) return res.writeHead(503, { 'retry-after': '1', 'content-type': 'application/problem+json' }).end('{"status":503}');
    const raw = Buffer.concat(chunks);
    const text = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
    const n = text.split('\n').filter((l) => l !== '').length;
    events += n;
    res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: n, duplicates: 0, rejected: [] }));
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
