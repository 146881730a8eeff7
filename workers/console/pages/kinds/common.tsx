/** @jsxImportSource hono/jsx */
import { text, textarea, type FormCtx } from '../../fields.tsx';
import { str, type Raw } from '../../forms.ts';
import { fmtTime } from '../../ui.tsx';
import type { Item } from '../resource-kind.ts';

/** Pieces every resource form and list shares. */
export const name = (i: Item) => i.name as string;
export const when = (i: Item) => `${fmtTime(i.updatedAt)} by ${i.updatedBy}`;
export const optional = (v: string) => (v.trim() === '' ? undefined : v.trim());
export const flag = (on: boolean | undefined) => (on ? 'true' : '');

export function nameAndDescription(ctx: FormCtx, raw: Raw) {
  return (
    <>
      {text(ctx, { name: 'name', label: 'Name', pointer: '/name', value: str(raw.name), required: true })}
      {textarea(ctx, { name: 'description', label: 'Description (optional)', pointer: '/description', value: str(raw.description), rows: 2 })}
    </>
  );
}
