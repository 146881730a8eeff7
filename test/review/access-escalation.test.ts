import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RIGHTS } from '../../schema/rights.ts';
import { harness, keyWithRights, type TenantClient } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';

const database = await testPglite();
afterAll(() => database.close());
const h = harness(database);
let acme: TenantClient;

beforeAll(async () => {
  acme = await h.tenant('acme');
  // A tenant provisioned by an earlier release: its stored built-in roles lack a right this release added.
  await database.client.exec(`update roles set rights = rights - 'audit.manage', spec = jsonb_set(spec, '{rights}', (spec->'rights') - 'audit.manage') where tenant_id = '${acme.id}' and builtin`);
});

describe('handing out built-in roles', () => {
  it('weighs the rights the role grants now, not the ones stored when the tenant was created', async () => {
    // Someone who holds everything the stored administrator role lists, but not audit.manage.
    const almost = h.as(acme, await keyWithRights(acme, RIGHTS.filter((r) => r !== 'audit.manage')));
    expect((await almost.json('PUT', '/v1/settings/audit', { auditRetentionDays: 7 })).status).toBe(403);
    const roles = await acme.json('GET', '/v1/roles?name=administrator');
    const admin = roles.body.items[0];
    expect(admin.rights).toContain('audit.manage'); // what the role grants, as the API shows it

    const minted = await almost.json('POST', '/v1/api-keys', { name: 'escalated', roleIds: [admin.id] });
    expect(minted.status).toBe(403);
    if (minted.status === 201) {
      const escalated = h.as(acme, minted.body.secret);
      expect((await escalated.json('PUT', '/v1/settings/audit', { auditRetentionDays: 7 })).status).toBe(403);
    }
  });
});
