# One image for every role; the command picks the role:
#   docker run IMAGE api | updater | notifier
# Not built here (no Docker engine on the development machines); written as it would run in production.

# Dependencies with the frozen lockfile, production only. npm reads package-lock.json; Bun runs the code.
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the only install scripts are Bun's own binary and dynalite's LevelDB (dev only);
# the runtime image brings Bun, and production talks to Amazon DynamoDB.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM oven/bun:1.4-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production
# A non-root user that owns nothing and reads everything.
RUN groupadd --system app && useradd --system --gid app --home /app app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json bunfig.toml ./
COPY shared ./shared
COPY api ./api
COPY updater ./updater
COPY notifier ./notifier
USER app
# Health endpoints listen on PORT (API: also the HTTP API). Settings come from the environment.
ENV HOST=0.0.0.0 PORT=3000
EXPOSE 3000
STOPSIGNAL SIGTERM
ENTRYPOINT ["bun", "run"]
CMD ["api"]
