import type { Child } from 'hono/jsx';
import type { Right } from '../../../schema/rights.ts';
import type { ConsoleApi } from '../api.ts';
import type { FormCtx } from '../fields.tsx';
import type { Raw } from '../forms.ts';

export type Item = Record<string, any> & { id: string };

/** One resource page of the console: its API path, list columns and (optionally) a form of its own. */
export interface ResourcePage {
  path: string;
  api: string;
  title: string;
  noun: string;
  rights: { view: Right; manage: Right };
  columns: Array<[string, (item: Item) => Child]>;
  /** The kind's form: fields named after the document's members, each API error shown at its field. */
  form: {
    /** `action` is where the form posts (choices that change which fields apply re-render through it). */
    render(ctx: FormCtx, raw: Raw, refs: Record<string, Item[] | undefined>, action: string): Child;
    toDoc(raw: Raw): unknown;
    fromDoc(doc: Item | undefined): Raw;
    isList?(pattern: string): boolean;
    blank?(pattern: string): Raw | string;
    /** Lists the form offers (roles, rights): fetched through the API, or what the user holds; absent when not viewable. */
    refs?(api: ConsoleApi, rights: ReadonlySet<Right>): Promise<Record<string, Item[] | undefined>>;
  };
  /** Creation answers a secret once (`{ <member>: object, secret }`). */
  createdMember?: string;
  /** Extra links on each row (details pages). */
  rowLinks?(item: Item, rights: ReadonlySet<Right>): Array<[string, string]>;
  /** Documents are created elsewhere (agents, scanners) or cannot be edited here. */
  readOnly?: boolean;
}
