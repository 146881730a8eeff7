import { compiledBundle } from '../engine/compiled/index.ts';
import { extractWorkload, type SignatureFacts } from '../engine/index.ts';
import type { SignatureStage } from '../signatures/stage.ts';
import { AgentFileError } from '../node/agent-file.ts';
import { EXIT, optional, parse, required, UsageError } from './args.ts';
import { loadEvaluationBundle, type EvaluationBundle } from './evaluate-bundle.ts';
import { formatJson, formatTable, type EvaluationResult } from './evaluate-output.ts';
import { readInputs, readStdin, type InputObject } from './inputs.ts';

const OPTIONS = {
  bundle: { type: 'string' },
  cluster: { type: 'string' },
  namespace: { type: 'string' },
  output: { type: 'string' },
  trust: { type: 'string' },
  config: { type: 'string' },
  'insecure-unsigned': { type: 'boolean' },
  'verify-signatures': { type: 'boolean' },
  'registry-config': { type: 'string' },
  'plain-http': { type: 'string', multiple: true },
} as const;

function meta(object: Record<string, unknown>): { name: string; namespace?: string } {
  const m = (object.metadata ?? {}) as { name?: unknown; generateName?: unknown; namespace?: unknown };
  const name = typeof m.name === 'string' && m.name ? m.name : typeof m.generateName === 'string' ? m.generateName : '';
  return { name, ...(typeof m.namespace === 'string' && m.namespace ? { namespace: m.namespace } : {}) };
}

/** Decides one object; `namespace` fills in for objects that name none (as `kubectl -n` does). */
export function evaluateObject(bundle: EvaluationBundle, input: InputObject, o: { cluster?: string; namespace?: string; now: Date; signatures?: SignatureFacts }): EvaluationResult {
  const { name, namespace: own } = meta(input.object);
  const namespace = input.namespace ?? own ?? o.namespace ?? 'default';
  const base = { source: input.source, kind: String(input.object.kind), namespace, name, allowed: true, findings: [], runtimeProfiles: {} };
  if (input.skip) return { ...base, note: input.skip };
  if (!extractWorkload(input.object)) return { ...base, note: 'not a workload' };
  const decision = compiledBundle(bundle.content).evaluate({ object: input.object, namespace, ...(o.cluster ? { cluster: o.cluster } : {}), ...(o.signatures ? { signatures: o.signatures } : {}), ...(input.requester ? { requester: input.requester } : {}) }, { now: o.now, bundleRevision: bundle.revision });
  if (decision.malformed) {
    // An input error, not a verdict: exit 2 naming the file, the document and each field's JSON Pointer in it.
    const file = input.source.slice(0, input.source.lastIndexOf('#'));
    const fields = decision.malformed.map((p) => `${input.at ?? ''}${p.pointer || ''}: ${p.message}`).join('; ');
    throw new AgentFileError(file, `document ${input.document ?? 1}: ${String(input.object.kind)} "${name}" is malformed: ${fields}`);
  }
  return { ...base, allowed: decision.allowed, findings: decision.findings, runtimeProfiles: decision.runtimeProfiles, ...(decision.notEnforced ? { notEnforced: decision.notEnforced } : {}) };
}

/** The signature facts of one input, when signature verification is on. */
async function signaturesOf(stage: SignatureStage | undefined, bundle: EvaluationBundle, input: InputObject, o: { cluster?: string; namespace?: string }): Promise<SignatureFacts | undefined> {
  if (!stage || input.skip || !extractWorkload(input.object)) return undefined;
  const namespace = input.namespace ?? meta(input.object).namespace ?? o.namespace ?? 'default';
  return stage(bundle.content, { object: input.object, namespace, ...(o.cluster ? { cluster: o.cluster } : {}) }, 30_000);
}

/**
 * The signature stage for `--verify-signatures`, loaded only then: Sigstore's verifier is a large part of what the
 * command would otherwise load on every run.
 */
async function signatureStageFor(values: { 'plain-http'?: string[]; 'registry-config'?: string }): Promise<SignatureStage> {
  const [{ verifierFromConfig }, { signatureStage }, { RegistryAccessConfig }] = await Promise.all([import('../signatures/from-config.ts'), import('../signatures/stage.ts'), import('../config.ts')]);
  return signatureStage(await verifierFromConfig({ ...RegistryAccessConfig.parse({ plainHttp: values['plain-http'] ?? [] }), ...(values['registry-config'] !== undefined ? { dockerConfigFile: values['registry-config'] } : {}) }, process.cwd()));
}

/**
 * `palisade-agent evaluate --bundle FILE [--cluster NAME] [--namespace NS] [--output table|json] INPUT...`: decides
 * manifests (YAML or JSON, multi-document, `kind: List`, AdmissionReviews; `-` is stdin) with a bundle, offline.
 * `--verify-signatures` turns registry access on for `imageContentProtection` rules (else they fail: not checked),
 * with credentials from `--registry-config FILE` (a `.dockerconfigjson`) and `--plain-http HOST:PORT` for registries
 * without TLS.
 * Exit 0 when everything is allowed, 1 when anything is denied, 2 for usage and input errors (the message names the
 * file and the problem).
 */
export async function evaluateCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, OPTIONS, Infinity);
  const output = optional(values, 'output') ?? 'table';
  if (output !== 'table' && output !== 'json') throw new UsageError(`--output is "${output}"; use table or json`);
  const inputs = await readInputs(positionals, readStdin);
  const bundle = await loadEvaluationBundle({
    file: required(values, 'bundle'),
    insecureUnsigned: values['insecure-unsigned'] === true,
    ...(values.trust !== undefined ? { trustFile: values.trust } : {}),
    ...(values.config !== undefined ? { configFile: values.config } : {}),
  });
  for (const note of bundle.notes) process.stderr.write(`warning: ${note}\n`);
  const cluster = optional(values, 'cluster');
  const namespace = optional(values, 'namespace');
  const now = new Date();
  if (values['verify-signatures'] !== true && (values['registry-config'] !== undefined || values['plain-http'] !== undefined)) throw new UsageError('--registry-config and --plain-http need --verify-signatures');
  const stage = values['verify-signatures'] === true ? await signatureStageFor(values) : undefined;
  const where = { ...(cluster ? { cluster } : {}), ...(namespace ? { namespace } : {}) };
  const results = [];
  for (const input of inputs) {
    const signatures = await signaturesOf(stage, bundle, input, where);
    results.push(evaluateObject(bundle, input, { now, ...where, ...(signatures ? { signatures } : {}) }));
  }
  const profileNames = new Map(bundle.content.runtimeProfiles.map((p) => [p.id, p.name]));
  process.stdout.write(output === 'json' ? formatJson(results) : formatTable(results, profileNames));
  return results.every((r) => r.allowed) ? EXIT.ok : EXIT.denied;
}
