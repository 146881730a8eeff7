import type { ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { admit, type ActiveBundle } from '../agent-sdk/src/webhook/admission.ts';
import { parseAdmissionReview, reviewResponse } from '../agent-sdk/src/webhook/review.ts';

/** Ceilings for the webhook bench: HTTPS servers doing a part of what the webhook does, and nothing else. */
type Listening = { url: string; close: () => void };

const FIXED = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true } });
const answer = (res: ServerResponse, text: string) => res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);

function listen(pair: { cert: string; key: string }, onBody?: (body: Buffer, res: ServerResponse) => void): Promise<Listening> {
  const server = createServer(pair, (req, res) => {
    if (!onBody) return void req.resume().on('end', () => answer(res, FIXED));
    const chunks: Buffer[] = [];
    // As the webhook does (agent-sdk/src/webhook/validate.ts): the body's work and the answer after the read callback.
    req.on('data', (chunk: Buffer) => chunks.push(chunk)).on('end', () => setImmediate(() => onBody(Buffer.concat(chunks), res)));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/validate`, close: () => server.close() })));
}

/**
 * The ceiling: an HTTPS server that reads the body and answers a fixed AdmissionReview. With `parse`, it also
 * JSON.parses the body, and nothing else: the ceiling of any webhook that reads the review it is sent.
 */
export function trivialServer(pair: { cert: string; key: string }, parse = false): Promise<Listening> {
  return listen(pair, parse ? (body, res) => (JSON.parse(body.toString('utf8')), answer(res, FIXED)) : undefined);
}

/**
 * The webhook's decision without its audit pipeline: parse the review, decide with the compiled evaluator (as
 * `admit` does), answer with the decision (the denial's message included). What the audit pipeline adds on top is
 * the gap between this and the webhook's own row.
 */
export function decidingServer(pair: { cert: string; key: string }, bundle: ActiveBundle): Promise<Listening> {
  return listen(pair, (body, res) => {
    const request = parseAdmissionReview(JSON.parse(body.toString('utf8')));
    const outcome = admit(request, { bundle, now: new Date(), failurePolicy: 'closed', graceMs: 3_600_000 });
    answer(res, JSON.stringify(reviewResponse(outcome.response)));
  });
}
