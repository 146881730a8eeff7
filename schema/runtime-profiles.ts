import { z } from 'zod';
import { Description, Metadata, Name, RegexSource } from './common.ts';

/** Absolute executable path; `*` matches any run of characters. */
const PathMask = z.string().min(2).max(4096).regex(/^\/[^\0]*$/, 'must be an absolute path starting with `/`');


export const ExecutableMatcher = z.union([
  z.strictObject({ path: PathMask }),
  z.strictObject({ regex: RegexSource }),
]);
export type ExecutableMatcher = z.infer<typeof ExecutableMatcher>;

const ExecutablesRestriction = z.strictObject({
  enabled: z.boolean().default(false),
  /** `blockListed`: the listed executables may not run; `allowListedOnly`: only the listed may run. */
  mode: z.enum(['blockListed', 'allowListedOnly']).default('blockListed'),
  executables: z.array(ExecutableMatcher).max(1000).default([]),
  exclusions: z.array(ExecutableMatcher).max(1000).default([]),
});

const PortRange = z
  .string()
  .regex(/^\d{1,5}(-\d{1,5})?$/, 'must be a port (`443`) or a range (`8000-8080`)')
  .refine((s) => {
    const [from, to = from] = s.split('-').map(Number) as [number, number?];
    return from >= 1 && to <= 65535 && from <= to;
  }, 'ports run from 1 to 65535, and a range from low to high');

const Fqdn = z
  .string()
  .max(253)
  .regex(/^(\*\.)?([a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/, 'must be a host name, optionally starting with `*.`');

export const NetworkPeer = z.union([
  z.strictObject({ cidr: z.union([z.cidrv4(), z.cidrv6()]), ports: z.array(PortRange).max(64).optional(), protocol: z.enum(['TCP', 'UDP', 'SCTP', 'any']).default('any') }),
  z.strictObject({ fqdn: Fqdn, ports: z.array(PortRange).max(64).optional(), protocol: z.enum(['TCP', 'UDP', 'SCTP', 'any']).default('any') }),
]);
export type NetworkPeer = z.infer<typeof NetworkPeer>;

const NetworkRestriction = z.strictObject({
  enabled: z.boolean().default(false),
  /** Connections to or from these peers stay allowed while the restriction is on. */
  allowed: z.array(NetworkPeer).max(1000).default([]),
});

export const RuntimeProfileInput = z
  .strictObject({
    name: Name,
    description: Description.optional(),
    executables: ExecutablesRestriction.default({ enabled: false, mode: 'blockListed', executables: [], exclusions: [] }),
    ingress: NetworkRestriction.default({ enabled: false, allowed: [] }),
    egress: NetworkRestriction.default({ enabled: false, allowed: [] }),
    fileThreatProtection: z.strictObject({ enabled: z.boolean().default(false) }).default({ enabled: false }),
  })
  .meta({ id: 'RuntimeProfileInput' });
export type RuntimeProfileInput = z.input<typeof RuntimeProfileInput>;
export type RuntimeProfileSpec = z.output<typeof RuntimeProfileInput>;

export const RuntimeProfile = RuntimeProfileInput.extend(Metadata.shape).meta({ id: 'RuntimeProfile' });
export type RuntimeProfile = z.output<typeof RuntimeProfile>;
