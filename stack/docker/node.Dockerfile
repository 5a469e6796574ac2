# The image docker-compose.yml runs the pipeline's services from (indexer-ingest, indexer-projector,
# gateway): the whole repo with its dependencies installed, TypeScript run by tsx (no build step).
FROM node:20-bookworm-slim
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund
# Generated at build time, not committed: the contracts' ABIs and bytecode, the gateway's supergraph.
RUN npm run build -w @carechain/contracts && npm run build -w @carechain/gateway
ENV NODE_ENV=production
