import { resolve } from 'node:path';
import { secureForTrust } from '../bundle/trust.ts';
import { enroll } from '../enroll.ts';
import { writeEnrollment } from '../node/agent-files.ts';
import { EXIT, parse, required, UsageError } from './args.ts';

/** `palisade-agent enroll --url URL --token TOKEN --out DIR` */
export async function enrollCommand(args: string[]): Promise<number> {
  const { values } = parse(args, { url: { type: 'string' }, token: { type: 'string' }, out: { type: 'string' } });
  const url = required(values, 'url');
  const token = required(values, 'token');
  const out = resolve(required(values, 'out'));
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new UsageError(`--url "${url}" is not an http(s) URL`);
  // The answer carries the trust anchor every bundle is verified against: over plain HTTP, anyone on the path picks it.
  if (!secureForTrust(url)) throw new UsageError(`--url "${url}" is plain HTTP; enrollment takes the trust anchor over HTTPS only (plain HTTP just to a loopback address)`);
  const enrollment = await enroll({ url, token });
  const configFile = await writeEnrollment(out, url, enrollment);
  process.stdout.write(`enrolled cluster ${enrollment.clusterId} (tenant ${enrollment.tenantId})\nconfiguration: ${configFile}\n`);
  return EXIT.ok;
}
