import type { AgentPoll, AgentPrincipal } from './agents/agent-auth.ts';
import type { Principal } from './auth/principal.ts';
import type { ChangeFeed } from './bundles/change-feed.ts';
import type { Db } from './db/db.ts';

/** Hono's typing for what middleware puts on the context. */
export interface AppEnv {
  Variables: {
    db: Db;
    principal: Principal;
    agent: AgentPrincipal;
    agentPoll: AgentPoll;
    changes: ChangeFeed;
  };
}
