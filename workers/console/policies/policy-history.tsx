/** @jsxImportSource hono/jsx */
import { showValue, valueAt } from '../forms.ts';
import { fmtTime } from '../ui.tsx';

interface Revision {
  revision: number;
  action: string;
  changedAt: string;
  changedBy: string;
  changes: string[];
  document: unknown;
}

/** Newest first; each update lists the fields it changed with the value before and after. */
export function RevisionHistory(props: { items: Revision[] }) {
  const items = props.items;
  return (
    <ol class="history" reversed>
      {[...items].reverse().map((r) => {
        const before = items.find((x) => x.revision === r.revision - 1)?.document;
        return (
          <li>
            <h2>
              Revision {r.revision}: {r.action === 'create' ? 'created' : r.action === 'delete' ? 'deleted' : 'updated'}
            </h2>
            <p>
              {fmtTime(r.changedAt)} by {r.changedBy}
            </p>
            {r.changes.length > 0 && (
              <div class="table-wrap" tabindex={0} role="region" aria-label={`Changes of revision ${r.revision}`}>
                <table>
                  <caption>What changed in revision {r.revision}</caption>
                  <thead>
                    <tr>
                      <th scope="col">Field</th>
                      <th scope="col">Before</th>
                      <th scope="col">After</th>
                    </tr>
                  </thead>
                  <tbody>
                    {r.changes.map((p) => (
                      <tr>
                        <th scope="row">
                          <code>{p}</code>
                        </th>
                        <td>
                          <code>{showValue(valueAt(before, p))}</code>
                        </td>
                        <td>
                          <code>{showValue(valueAt(r.document, p))}</code>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </li>
        );
      })}
    </ol>
  );
}
