import type { AppEnv } from '../app-env.ts';
import type { ConsoleApi } from './api.ts';
import type { Session } from './session.ts';
import type { PageContext } from './ui.tsx';

/** What the console's middleware puts on the context, next to the API's own variables. */
export interface ConsoleEnv {
  Variables: AppEnv['Variables'] & {
    session: Session;
    api: ConsoleApi;
    page: PageContext;
  };
}
