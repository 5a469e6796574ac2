#!/usr/bin/env bash
# Makes a Compose implementation available to validate docker-compose.yml on machines without Docker
# (`config` parses, validates against the Compose schema and interpolates; it needs no Docker engine).
# Prints the command to use ("docker compose" or "docker-compose") on stdout; progress goes to stderr.
# Installs Debian's docker-compose package when neither exists and we may (root with apt-get).
set -euo pipefail

if docker compose version >/dev/null 2>&1; then
  echo "docker compose"
  exit 0
fi
if docker-compose version >/dev/null 2>&1; then
  echo "docker-compose"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "no Compose found to validate docker-compose.yml: install Docker Compose (or, on Debian: sudo apt-get install docker-compose)" >&2
  exit 1
fi

echo "[compose] installing Debian's docker-compose package (once) to validate docker-compose.yml" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends docker-compose >&2; then
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends docker-compose >&2
fi
docker-compose version >/dev/null
echo "docker-compose"
