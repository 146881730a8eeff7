import type { Hono } from 'hono';
import { SignatureValidator, SignatureValidatorInput } from '../../schema/signature-validators.ts';
import { signatureValidators } from '../../schema/tables/index.ts';
import type { AppEnv } from '../app-env.ts';
import type { ObjectKind } from '../objects/object-kind.ts';
import { nameFilter } from '../objects/filters.ts';
import { registerObjectRoutes } from '../objects/objects.routes.ts';
import { refuseIfReferenced } from '../policies/policy-references.ts';

export const signatureValidatorKind: ObjectKind<typeof SignatureValidatorInput> = {
  noun: 'signature validator',
  path: '/v1/signature-validators',
  table: signatureValidators,
  input: SignatureValidatorInput,
  output: SignatureValidator,
  // Validators hold only public material, so anyone who may read policies may read them.
  feedsBundles: true,
  rights: { view: 'signatureValidators.view', manage: 'signatureValidators.manage' },
  filters: { name: nameFilter(signatureValidators) },
  beforeDelete: (ctx, row) => refuseIfReferenced(ctx, 'signatureValidator', row),
};

export const registerSignatureValidatorRoutes = (app: Hono<AppEnv>) => registerObjectRoutes(app, signatureValidatorKind);
