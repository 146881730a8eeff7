import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliWithStdin } from './support/evaluate.ts';
import { startWebhook } from './support/webhook-server.ts';
import { goodPod, pod, postReview, review, webhookBundle } from './support/webhook.ts';

const stringPrivileged = () => pod('sneaky', [{ name: 'app', image: 'ghcr.io/acme/web:1', securityContext: { privileged: 'true' } }]);
const objectContainers = () => ({ ...goodPod('hidden'), spec: { containers: { name: 'app', image: 'ghcr.io/acme/web:1', securityContext: { privileged: true } } } });

let dir: string;
let w: Awaited<ReturnType<typeof startWebhook>>;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'palisade-malformed-'));
  w = await startWebhook();
  await writeFile(join(dir, 'content.json'), JSON.stringify(await webhookBundle()));
  await writeFile(join(dir, 'pods.yaml'), [stringify(goodPod('fine')), stringify(stringPrivileged())].join('---\n'));
  await writeFile(join(dir, 'review.json'), JSON.stringify(review(objectContainers())));
});
afterAll(async () => {
  await w.server.close();
  await rm(w.dir, { recursive: true, force: true });
  await rm(dir, { recursive: true, force: true });
});

describe('malformed workload specs are refused', () => {
  const run = (...inputs: string[]) => cliWithStdin(dir, '', 'evaluate', '--bundle', 'content.json', '--insecure-unsigned', ...inputs);

  it('evaluate exits 2 naming the file, the document and the JSON path, and prints no verdicts', async () => {
    const a = await run('pods.yaml');
    expect(a.code).toBe(2);
    expect(a.stdout).toBe('');
    expect(a.stderr).toContain('pods.yaml: document 2: Pod "sneaky" is malformed: /spec/containers/0/securityContext/privileged: ');
    const b = await run('review.json');
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('review.json: document 1: Pod "hidden" is malformed: /request/object/spec/containers: ');
  });

  it('the webhook denies with code 400 and the JSON path (fail closed), recording no findings', async () => {
    w.server.audit.take();
    for (const object of [stringPrivileged(), objectContainers()]) {
      const reply = await postReview(w.url, w.ca, review(object));
      expect(reply.status).toBe(200);
      const { response } = reply.json();
      expect(response).toMatchObject({ allowed: false, status: { code: 400, reason: 'BadRequest' } });
      expect(response.status.message).toMatch(/^Palisade denied Pod "(sneaky|hidden)" is malformed: \/spec\/containers/);
    }
    expect(w.server.audit.take()).toEqual([]);
  });
});
