# syntax=docker/dockerfile:1
# Production image of the SEA gateway: compiled JavaScript, production dependencies only,
# running as an unprivileged user. One image serves every role: `up`, `gateway`, `relay`,
# `worker --context <ctx>`, `migrate`, `keys create`.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY contracts ./contracts
COPY src ./src
COPY adapters ./adapters
COPY bin ./bin
# --omit=optional leaves out embedded-postgres (about 60 MB of PostgreSQL binaries): the
# development mode's database; the image always runs against real PostgreSQL and NATS.
RUN npm run build && npm prune --omit=dev --omit=optional

FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 8080
# Every role answers /health/ready: the gateway on PORT, relays and workers on METRICS_PORT.
# HEALTH_PORT overrides the port probed; a relay or worker without METRICS_PORT has no HTTP
# port at all (disable the check for it, or set METRICS_PORT).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD node -e "const e=process.env,p=e.HEALTH_PORT||e.METRICS_PORT||e.PORT||8080;fetch('http://127.0.0.1:'+p+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Node's default young generation: NODE_OPTIONS=--max-semi-space-size=64 trades memory per idle
# stream for less CPU under load (README, Performance).
ENTRYPOINT ["node", "dist/bin/sea-gateway.js"]
CMD ["gateway"]
