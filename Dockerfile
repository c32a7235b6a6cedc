# syntax=docker/dockerfile:1
# The Greenlight hub and its web console; nothing of the desktop app.
#   docker build -t greenlight .
#   docker run -p 7300:7300 -v greenlight-data:/var/lib/greenlight -v greenlight-keys:/var/lib/greenlight-keys -e GREENLIGHT_ADMIN_TOKEN=glt_… greenlight
# Settings: GREENLIGHT_* variables or GREENLIGHT_CONFIG=/etc/greenlight/hub.yaml (see `greenlight hub --help`).
ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: compile the hub and the console, then keep only the production dependencies ---
FROM ${NODE_IMAGE} AS build
# better-sqlite3 compiles from source; keytar (the desktop app's keychain) needs libsecret to build.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ libsecret-1-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
ENV PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 ELECTRON_SKIP_BINARY_DOWNLOAD=1
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build:renderer && npm run build:server \
 && npm prune --omit=dev --omit=optional --no-audit --no-fund

# --- runtime: node, the built hub, the built console, production modules; runs as an unprivileged user ---
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    GREENLIGHT_HOST=0.0.0.0 \
    GREENLIGHT_PORT=7300 \
    GREENLIGHT_DATA_DIR=/var/lib/greenlight \
    GREENLIGHT_CHECKPOINT_KEY=/var/lib/greenlight-keys/checkpoint-key.pem \
    GREENLIGHT_KEY_ENCRYPTION_KEY=/var/lib/greenlight-keys/key-encryption-key
# The keys live in a volume of their own: a copy of the data volume holds nothing that signs.
RUN groupadd --system greenlight \
 && useradd --system --gid greenlight --home-dir /var/lib/greenlight --shell /usr/sbin/nologin greenlight \
 && mkdir -p /var/lib/greenlight /var/lib/greenlight-keys /etc/greenlight \
 && chown greenlight:greenlight /var/lib/greenlight /var/lib/greenlight-keys \
 && chmod 0700 /var/lib/greenlight /var/lib/greenlight-keys
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/bin ./bin
COPY --from=build /src/dist/server ./dist/server
COPY --from=build /src/renderer/dist ./renderer/dist
COPY --from=build /src/assets/icon.png ./assets/icon.png
COPY --from=build /src/deploy/docker-entrypoint.sh ./deploy/docker-entrypoint.sh
USER greenlight
VOLUME ["/var/lib/greenlight", "/var/lib/greenlight-keys"]
EXPOSE 7300
# Ready, not merely alive: database reachable, migrations current, scheduler running.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.GREENLIGHT_PORT || 7300) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/app/deploy/docker-entrypoint.sh"]
CMD ["hub"]
