# syntax=docker/dockerfile:1
# Production image: Node 24 LTS runs the TypeScript sources directly (type stripping), no build step.
# Pin the base image by digest for reproducible builds:
#   docker build --build-arg NODE_IMAGE=node:24-bookworm-slim@sha256:<digest> .
# (`docker buildx imagetools inspect node:24-bookworm-slim` prints the current digest.)
ARG NODE_IMAGE=node:24-bookworm-slim
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# The `node` devDependency only pins Node 24 for npm scripts on other hosts; the base image already is Node 24.
# The workspaces (packages/*, the development store) are not copied, and --workspaces=false keeps npm from
# linking them or installing their dependencies: production runs on MONGODB_URI.
RUN npm ci --omit=dev --workspaces=false --ignore-scripts && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/var/lib/parley \
    MEDIA_DIR=/var/lib/parley/media
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY machines ./machines
RUN mkdir -p /var/lib/parley/media && chown -R node:node /var/lib/parley
USER node
VOLUME ["/var/lib/parley/media"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "src/main.ts"]
