import { z } from 'zod';
import { ComplianceReason } from '../../schema/assurance-policies.ts';
import { Finding, ScanSummary, Severity } from '../../schema/scan-reports/finding.ts';
import { RegistrySyncStatus } from '../../schema/registries.ts';
import { imageKind } from '../images/images.routes.ts';
import { registryKind } from '../registries/registries.routes.ts';
import { tagOf } from './openapi.kinds.ts';
import { pathId, type Operations, type Paths } from './openapi.operations.ts';
import type { JsonSchema } from './openapi.schemas.ts';

const REPORT = 'The scanner\'s own JSON, unchanged: Trivy `--format json` (SchemaVersion 2), Grype `-o json`, or CycloneDX (1.4 to 1.6) with `vulnerabilities`. Up to 16 MiB. A malformed report is refused with a JSON Pointer into it; nothing is stored.';
const ANY_REPORT: JsonSchema = { type: 'object', description: 'A Trivy, Grype or CycloneDX JSON report' };

const ScanStored = ScanSummary.extend({
  digest: z.string(),
  findings: z.int().meta({ description: 'How many findings were stored' }),
  images: z.array(z.object({ id: z.uuid(), name: z.string(), compliance: z.string(), complianceReasons: z.array(ComplianceReason) })),
}).meta({ id: 'ScanStored' });

const ScanResult = ScanSummary.extend({
  imageId: z.uuid(),
  digest: z.string(),
  compliance: z.string(),
  complianceReasons: z.array(ComplianceReason),
  compliantUntil: z.string().optional(),
  findings: z.array(Finding),
  counts: z.record(Severity, z.int()),
}).meta({ id: 'ScanResult' });

/** Scan results in and out, and a registry's sync on demand. */
export function assurancePaths(ops: Operations): Paths {
  const images = tagOf(imageKind);
  const registries = tagOf(registryKind);
  const digest: JsonSchema = { name: 'digest', in: 'query', required: false, description: 'The image manifest digest the report is for; needed when the report names none (a scan of an image archive), and must agree with it otherwise', schema: { type: 'string', pattern: '^sha256:[a-f0-9]{64}$' } };
  const stored = (what: string) => ({
    tag: images,
    right: 'images.manage' as const,
    body: { schema: ANY_REPORT, description: REPORT },
    responses: { 201: ops.json(`The stored scan and the compliance of the registered images with its digest${what}`, ScanStored) },
    problems: { 409: 'A newer scan of this digest is already stored', 422: 'Not a report of a supported format, malformed (with a pointer into it), dated in the future, or for another digest' },
  });
  return {
    '/v1/images/scan-results': {
      post: ops.operation({
        ...stored(' (none when the digest is not registered yet: the scan is kept and decides when it is)'),
        operationId: 'postScanResults',
        summary: 'Post a scan report',
        description: 'Stores the report as the scan of its image digest (the newest scan of a digest replaces the older), recomputes the compliance of every registered image with that digest under the assurance policies, and marks bundles stale when a verdict changed.',
        parameters: [digest],
        problems: { 400: 'The report names no digest and none was given', 409: 'A newer scan of this digest is already stored', 422: 'Not a report of a supported format, malformed (with a pointer into it), dated in the future, or for another digest' },
      }),
    },
    '/v1/images/{id}/scan-results': {
      post: ops.operation({ ...stored(''), operationId: 'postImageScanResults', summary: 'Post a scan report for an image', description: 'As `POST /v1/images/scan-results` with the image\'s digest.', parameters: [pathId('image')], problems: { 404: true, 409: 'A newer scan of this digest is already stored' } }),
      get: ops.operation({
        tag: images,
        operationId: 'getImageScanResults',
        summary: 'The findings of an image and why it is (non-)compliant',
        right: 'images.view',
        parameters: [pathId('image')],
        responses: { 200: ops.json('The stored scan of the image\'s digest with the reasons (policy, rule, CVEs)', ScanResult) },
        problems: { 404: 'No such image, or no scan of its digest' },
      }),
    },
    '/v1/registries/{id}/sync': {
      post: ops.operation({
        tag: registries,
        operationId: 'syncRegistry',
        summary: 'Sync a registry now',
        description: 'Lists the registry through the OCI distribution API (the catalog or `sync.repositories`, tags, manifest digests, multi-arch indexes) and registers what it finds, as the scheduled sync does. Registry trouble is reported in the status, not as an error.',
        right: 'registries.manage',
        parameters: [pathId('registry')],
        responses: { 200: ops.json('The sync status, also kept on the registry', RegistrySyncStatus) },
        problems: { 404: true },
      }),
    },
  };
}
