#!/usr/bin/env bash
# Test tools from npm, installed locally under .tools/node (not global) exactly as
# tools/node/package-lock.json pins them: Prism, GitHub's OpenAPI description and GitHub's
# webhook examples (@octokit/webhooks-examples).
set -euo pipefail
dir=.tools/node
stamp="$dir/.installed"
# The shortcut is keyed on the manifest and lock file, so adding or bumping a package reinstalls.
want=$(cat tools/node/package.json tools/node/package-lock.json | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -d "$dir/node_modules" ]; then exit 0; fi
mkdir -p "$dir"
cp tools/node/package.json tools/node/package-lock.json "$dir/"
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
echo "$want" > "$stamp"
