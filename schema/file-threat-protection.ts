import { z } from 'zod';

const Action = z.enum(['recommended', 'disinfect', 'blockAccess', 'remove']);

/** Tenant-wide File Threat Protection settings, applied by every active runtime policy that turns the component on. */
export const FileThreatProtectionSettingsInput = z
  .strictObject({
    interceptorMode: z.enum(['audit', 'enforce']).default('audit'),
    /** Not applied: node agents scan after writes (inotify) and periodically, never on open (no fanotify from Node). */
    scanMode: z.enum(['smart', 'openAndModify', 'open']).default('smart').describe('Not applied by node agents: files are scanned after they are written and periodically, never on open.'),
    firstAction: Action.default('recommended'),
    secondAction: Action.default('blockAccess'),
    archiveScanning: z.enum(['off', 'selfExtractingOnly', 'all']).default('off'),
    mailScanning: z.boolean().default(false),
    /** 0 means no limit. */
    skipObjectsLargerThanMb: z.int().min(0).max(1_048_576).default(0),
    /** 0 means unlimited. */
    skipObjectsScanLongerThanSeconds: z.int().min(0).max(86_400).default(60),
    scanOnlyNewAndModified: z.boolean().default(false),
    /** Not applied: detection is by signatures only. */
    heuristicLevel: z.enum(['off', 'light', 'medium', 'deep', 'recommended']).default('recommended').describe('Not applied: detection is by signatures only.'),
    pathExclusions: z.array(z.string().max(4096).regex(/^\//, 'must be an absolute path starting with `/`')).max(1000).default([]),
  })
  .meta({ id: 'FileThreatProtectionSettingsInput' });
export type FileThreatProtectionSettings = z.output<typeof FileThreatProtectionSettingsInput>;

export const FILE_THREAT_PROTECTION_DEFAULTS: FileThreatProtectionSettings = FileThreatProtectionSettingsInput.parse({});

export const FileThreatProtectionSettingsDoc = FileThreatProtectionSettingsInput.extend({
  updatedAt: z.string().nullable(),
  updatedBy: z.string().nullable(),
}).meta({ id: 'FileThreatProtectionSettings' });
