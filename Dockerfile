# One image for both agent components: `palisade-agent run` (admission Deployment) and `palisade-agent node`
# (DaemonSet). Build: docker build -t palisade-agent:0.1.0 .
# Stage 1 installs the agent workspace's production dependencies only (no control plane, no dev tools).
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY agent-sdk/package.json agent-sdk/package.json
RUN npm ci --omit=dev --omit=optional --workspace agent-sdk --include-workspace-root=false --no-audit --no-fund \
 && npm cache clean --force

# Stage 2: the sources the agent runs (agent-sdk and the shared schema), on the same Node 22 base.
FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app ./
COPY tsconfig.json ./
COPY schema ./schema
COPY agent-sdk ./agent-sdk
# Non-root by default (the admission agent runs so); the node DaemonSet overrides it to root without privileges
# (see deploy/kubernetes/daemonset.yaml). Run with a read-only root filesystem and a writable /tmp.
USER 65532:65532
ENTRYPOINT ["node", "agent-sdk/bin/palisade-agent.mjs"]
CMD ["--help"]
