# One image for both agent components: `palisade-agent run` (admission Deployment) and `palisade-agent node`
# (DaemonSet). Build: docker build -t palisade-agent:0.1.0 .
# Stage 1 installs the agent workspace's production dependencies only (no control plane, no dev tools).
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY agent-sdk/package.json agent-sdk/package.json
RUN npm ci --omit=dev --omit=optional --workspace agent-sdk --include-workspace-root=false --no-audit --no-fund \
 && npm cache clean --force

# Stage 2 compiles the agent to JavaScript (dist/agent, see build/build.mjs) with esbuild, a development dependency of
# agent-sdk, so the agent starts without transpiling TypeScript (the root's `prepare` would build the server too).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY agent-sdk/package.json agent-sdk/package.json
RUN npm ci --workspace agent-sdk --include-workspace-root=false --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY build ./build
COPY schema ./schema
COPY agent-sdk ./agent-sdk
RUN node build/build.mjs agent

# Stage 3: the sources, their build and the production dependencies, on the same Node 22 base. The launcher checks the
# build against the sources at each start (a few hundred stat calls) and uses it; the sources stay for that check and
# as the fallback through tsx.
FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app ./
COPY tsconfig.json ./
COPY build ./build
COPY schema ./schema
COPY agent-sdk ./agent-sdk
COPY --from=build /app/dist ./dist
# Non-root by default (the admission agent runs so); the node DaemonSet overrides it to root without privileges
# (see deploy/kubernetes/daemonset.yaml). Run with a read-only root filesystem and a writable /tmp.
USER 65532:65532
ENTRYPOINT ["node", "agent-sdk/bin/palisade-agent.mjs"]
CMD ["--help"]
