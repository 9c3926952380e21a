# Every image of the system from one file (skaffold.yaml builds each target):
#   webhook-ingest, build-dispatch, log-ingest, cron-relay, query-api — one per function
#   builder  — runs a build's stages inside its Job (with git)
#   frontend — the web UI as static files behind nginx
# Production runs bundles (npm run build → dist/), never a TypeScript loader.
#
# Builds with the engine's built-in Dockerfile frontend (no `syntax` directive, no heredocs) and
# without a registry: the base images are build args whose defaults are the images
# docker/base-images.sh makes from Debian (debootstrap) and the machine's node. With a registry:
#   --build-arg NODE_IMAGE=node:20-bookworm-slim --build-arg BUILD_IMAGE=node:20-bookworm-slim
#   --build-arg BUILDER_BASE_IMAGE=node:20-bookworm-slim
#   --build-arg NGINX_IMAGE=nginxinc/nginx-unprivileged:1.27-alpine
# Where the bundles come from (DIST):
#   build    (default) `npm ci` + `npm run build` inside the build; needs the npm registry
#   context  dist/ and frontend/dist/ of the build context, made on the host by `npm ci`
#            (CI takes this path: no registry is reachable from a build container there)

ARG NODE_IMAGE=estafette-base/node:20
ARG BUILD_IMAGE=estafette-base/node-build:20
ARG BUILDER_BASE_IMAGE=estafette-base/builder:20
ARG NGINX_IMAGE=estafette-base/nginx:1.22
ARG DIST=build

# Everything, dev dependencies included, then `npm run build`: the functions', builder's and
# CLI's bundles in dist/ and the UI in frontend/dist. Never copied whole into a runtime image.
# Install scripts are skipped here; the build needs none of them.
FROM ${BUILD_IMAGE} AS build
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false
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

# The same outputs, built beforehand on the host (`npm ci` runs `npm run build`).
FROM scratch AS context
COPY dist/ /app/dist/
COPY frontend/dist/ /app/frontend/dist/

# Whichever DIST names: every runtime target copies its files from here.
FROM ${DIST} AS dist

# The migration command's files: dist/cli.mjs and the chunks `estafette migrate` loads, not the
# whole CLI (its local mode, docker executor and Kubernetes client are most of the CLI).
FROM ${NODE_IMAGE} AS migrate-files
COPY --from=dist /app/dist/ /in/
COPY docker/bundle-closure.mjs /bundle-closure.mjs
RUN node /bundle-closure.mjs /in cli.mjs /out migrate

# A function image: node and that function's bundle (entry + lazy chunks + licence notes; no
# source maps, which only --enable-source-maps reads), nothing else — every dependency it needs
# is inside the bundle. Runs as an unprivileged numeric user (numeric so Kubernetes'
# runAsNonRoot can verify it), from files it cannot change (root-owned; BUNDLE_OWNER=1000:1000
# only for skaffold's dev profile, which syncs rebuilt bundles into running pods).
FROM ${NODE_IMAGE} AS functions-runtime
WORKDIR /app
ENV NODE_ENV=production \
    PORT=8080
USER 1000:1000
EXPOSE 8080
ENTRYPOINT ["node"]

FROM functions-runtime AS webhook-ingest
ARG BUNDLE_OWNER=0:0
COPY --chown=${BUNDLE_OWNER} --from=dist /app/dist/functions/webhook-ingest.mjs /app/dist/functions/webhook-ingest~*.mjs /app/dist/functions/webhook-ingest*.LEGAL.txt dist/functions/
CMD ["dist/functions/webhook-ingest.mjs"]

FROM functions-runtime AS build-dispatch
ARG BUNDLE_OWNER=0:0
COPY --chown=${BUNDLE_OWNER} --from=dist /app/dist/functions/build-dispatch.mjs /app/dist/functions/build-dispatch~*.mjs /app/dist/functions/build-dispatch*.LEGAL.txt dist/functions/
CMD ["dist/functions/build-dispatch.mjs"]

FROM functions-runtime AS log-ingest
ARG BUNDLE_OWNER=0:0
COPY --chown=${BUNDLE_OWNER} --from=dist /app/dist/functions/log-ingest.mjs /app/dist/functions/log-ingest~*.mjs /app/dist/functions/log-ingest*.LEGAL.txt dist/functions/
CMD ["dist/functions/log-ingest.mjs"]

FROM functions-runtime AS cron-relay
ARG BUNDLE_OWNER=0:0
COPY --chown=${BUNDLE_OWNER} --from=dist /app/dist/functions/cron-relay.mjs /app/dist/functions/cron-relay~*.mjs /app/dist/functions/cron-relay*.LEGAL.txt dist/functions/
CMD ["dist/functions/cron-relay.mjs"]

# query-api's image also runs the migration Job (`node dist/cli.mjs migrate`, knative/base/migrate-job.yaml).
FROM functions-runtime AS query-api
ARG BUNDLE_OWNER=0:0
COPY --chown=${BUNDLE_OWNER} --from=dist /app/dist/functions/query-api.mjs /app/dist/functions/query-api~*.mjs /app/dist/functions/query-api*.LEGAL.txt dist/functions/
COPY --from=migrate-files /out/ dist/
COPY --from=dist /app/dist/migrations/ dist/migrations/
CMD ["dist/functions/query-api.mjs"]

# The builder: git to clone, ssh for git@ remotes; stages run in the docker-in-docker sidecar.
# The default base already holds them (docker/base-images.sh); any other base gets them here.
# uid 1000 needs a passwd entry (ssh refuses to run without one), with its home on /tmp: the
# Job mounts a writable /tmp on an otherwise read-only root (shared/k8s/job-spec.ts). The Job's
# work dir is an emptyDir owned by root, which git refuses as "dubious ownership" unless told to
# trust it: the system config trusts exactly that directory (WORK_DIR of job-spec.ts).
FROM ${BUILDER_BASE_IMAGE} AS builder
RUN { command -v git >/dev/null && command -v ssh >/dev/null; } \
 || { apt-get update \
   && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
   && rm -rf /var/lib/apt/lists/*; } \
 && { getent passwd 1000 >/dev/null \
   || useradd --uid 1000 --user-group --home-dir /tmp --no-create-home --shell /usr/sbin/nologin estafette; } \
 && git config --system --add safe.directory /estafette-work
WORKDIR /app
ENV NODE_ENV=production
COPY --from=dist /app/dist/builder.mjs /app/dist/builder~*.mjs /app/dist/builder*.LEGAL.txt dist/
USER 1000:1000
ENTRYPOINT ["node", "dist/builder.mjs"]

# The UI: static files behind nginx (docker/nginx.conf: port 8080, /healthz, index.html fallback).
FROM ${NGINX_IMAGE} AS frontend
COPY docker/nginx.conf /etc/nginx/nginx.conf
COPY --from=dist /app/frontend/dist/ /usr/share/nginx/html/
USER 101:101
EXPOSE 8080
# SIGQUIT is nginx's graceful stop (finish requests in flight); SIGTERM would drop them.
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
