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
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "dist/bin/sea-gateway.js"]
CMD ["gateway"]
