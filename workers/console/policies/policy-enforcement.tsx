/** @jsxImportSource hono/jsx */
import type { PolicyEnforcement } from '../../../schema/runtime-policies.ts';

type Enforcement = { notEnforcedIn: PolicyEnforcement['notEnforcedIn'] } | undefined;

/**
 * Says, where the policy is shown, which clusters it reaches whose live agents do not enforce an enabled section
 * (`enforcement.notEnforcedIn` of the API): a setting that is stored but not enforced must never look enforced.
 */
export function NotEnforcedNotice(props: { enforcement: Enforcement }) {
  const gaps = props.enforcement?.notEnforcedIn ?? [];
  if (gaps.length === 0) return null;
  return (
    <section class="conflict" role="status" aria-labelledby="not-enforced-title">
      <h2 id="not-enforced-title">Not enforced everywhere</h2>
      <p>This policy reaches clusters whose running agents do not enforce some of its enabled sections:</p>
      <ul>
        {gaps.map((g) => (
          <li>
            <a href={`/clusters/${g.clusterId}`}>{g.clusterName}</a>: {g.sections.join(', ')}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** The list's short form of the same warning. */
export function NotEnforcedBadge(props: { enforcement: Enforcement }) {
  const n = props.enforcement?.notEnforcedIn.length ?? 0;
  if (n === 0) return null;
  return <span class="badge warn"> not enforced in {n} {n === 1 ? 'cluster' : 'clusters'}</span>;
}
