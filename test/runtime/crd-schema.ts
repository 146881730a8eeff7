import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { SHARED_FIXTURES } from './support.ts';

/**
 * A validator for Tetragon's `TracingPolicyNamespaced` (and `TracingPolicy`) built from the CRD's
 * `openAPIV3Schema` in the shared fixtures. Structural checks only: ajv does not run the CRD's CEL rules
 * (`x-kubernetes-validations`) or Kubernetes' int32 formats.
 */
export function crdValidator(file: 'cilium.io_tracingpoliciesnamespaced.yaml' | 'cilium.io_tracingpolicies.yaml') {
  const crd = parse(readFileSync(resolve(SHARED_FIXTURES, 'tetragon/crds', file), 'utf8'));
  const version = crd.spec.versions.find((v: { name: string }) => v.name === 'v1alpha1');
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const validate = ajv.compile(version.schema.openAPIV3Schema);
  return (object: unknown): string[] => (validate(object) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));
}
