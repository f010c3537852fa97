#!/usr/bin/env bash
# Prism and GitHub's OpenAPI description, installed locally under .tools/node (not global).
set -euo pipefail
dir=.tools/node
if [ -x "$dir/node_modules/.bin/prism" ] && [ -d "$dir/node_modules/@octokit/openapi" ]; then exit 0; fi
mkdir -p "$dir"
cp tools/node/package.json "$dir/package.json"
[ -f tools/node/package-lock.json ] && cp tools/node/package-lock.json "$dir/package-lock.json"
(cd "$dir" && npm install --no-audit --no-fund --loglevel=error)
