#!/usr/bin/env bash
# Makes Debian's Chromium available for the web's browser tests (playwright-core drives it; Playwright's own
# browser downloads are not used). Prints the browser's path on stdout; progress goes to stderr.
# Installs Debian's chromium package when it is missing and we may (root with apt-get).
set -euo pipefail

for name in chromium chromium-browser; do
  if path=$(command -v "$name"); then
    echo "$path"
    exit 0
  fi
done
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "no Chromium found for the browser tests: install it (on Debian: sudo apt-get install chromium) or set CHROMIUM_PATH" >&2
  exit 1
fi

echo "[chromium] installing Debian's chromium package (once) for the browser tests" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends chromium >&2; then
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends chromium >&2
fi
command -v chromium
