# customer-sync: the daemon, the operator CLI and the Agent Engine simulator in one small image.
# Multi-stage: production dependencies are installed in a throwaway stage; the runtime stage holds
# only node_modules, the sources and the migrations, and runs as the unprivileged `node` user.
# TypeScript runs through tsx, a runtime dependency here, so there is no separate build step.

ARG NODE_IMAGE=node:22-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json tsconfig.json ./
COPY --chown=node:node migrations ./migrations
COPY --chown=node:node src ./src
USER node
EXPOSE 8080
# Liveness only; readiness (Postgres, Redis, workers) is GET /readyz.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node itself is PID 1's child of nothing else: SIGTERM reaches the daemon directly, which finishes
# in-flight jobs and exits 0 (through `npm start` a /bin/sh in between would swallow it).
CMD ["node", "--import", "tsx", "src/main.ts"]
