# syntax=docker/dockerfile:1.7
# Every image of the system from one file (skaffold.yaml builds each target):
#   webhook-ingest, build-dispatch, log-ingest, cron-relay, query-api — one per function
#   builder  — runs a build's stages inside its Job (with git)
#   frontend — the web UI as static files behind nginx
# Production runs bundles (npm run build → dist/), never a TypeScript loader.

ARG NODE_IMAGE=node:20-bookworm-slim
ARG NGINX_IMAGE=nginxinc/nginx-unprivileged:1.27-alpine

FROM ${NODE_IMAGE} AS base
WORKDIR /app
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false

# Everything, dev dependencies included, then `npm run build`: the functions', builder's and
# CLI's bundles in dist/ and the UI in frontend/dist. Never copied whole into a runtime image.
# Install scripts are skipped here; the build needs none of them.
FROM base AS build
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --include=dev --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/ scripts/
COPY bin/ bin/
COPY cli/ cli/
COPY shared/ shared/
COPY functions/ functions/
COPY builder/ builder/
COPY frontend/ frontend/
COPY knative/functions.json knative/functions.json
RUN npm run build

# A function image: node and that function's bundle (entry + lazy chunks + source maps), nothing
# else — every dependency it needs is inside the bundle. Runs as an unprivileged numeric user
# (numeric so Kubernetes' runAsNonRoot can verify it).
FROM base AS functions-runtime
ENV PORT=8080
USER 1000:1000
EXPOSE 8080
ENTRYPOINT ["node"]

FROM functions-runtime AS webhook-ingest
COPY --from=build /app/dist/functions/webhook-ingest.mjs* /app/dist/functions/webhook-ingest~* dist/functions/
CMD ["dist/functions/webhook-ingest.mjs"]

FROM functions-runtime AS build-dispatch
COPY --from=build /app/dist/functions/build-dispatch.mjs* /app/dist/functions/build-dispatch~* dist/functions/
CMD ["dist/functions/build-dispatch.mjs"]

FROM functions-runtime AS log-ingest
COPY --from=build /app/dist/functions/log-ingest.mjs* /app/dist/functions/log-ingest~* dist/functions/
CMD ["dist/functions/log-ingest.mjs"]

FROM functions-runtime AS cron-relay
COPY --from=build /app/dist/functions/cron-relay.mjs* /app/dist/functions/cron-relay~* dist/functions/
CMD ["dist/functions/cron-relay.mjs"]

# query-api's image also runs the migration Job (`node dist/cli.mjs migrate`, knative/base/migrate-job.yaml).
FROM functions-runtime AS query-api
COPY --from=build /app/dist/functions/query-api.mjs* /app/dist/functions/query-api~* dist/functions/
COPY --from=build /app/dist/cli.mjs* /app/dist/cli~* dist/
COPY --from=build /app/dist/migrations/ dist/migrations/
CMD ["dist/functions/query-api.mjs"]

# The builder: git to clone, ssh for git@ remotes; stages run in the docker-in-docker sidecar.
FROM base AS builder
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /app/dist/builder.mjs* /app/dist/builder~* dist/
USER 1000:1000
ENTRYPOINT ["node", "dist/builder.mjs"]

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
COPY --from=build /app/frontend/dist /usr/share/nginx/html
USER 101:101
EXPOSE 8080
