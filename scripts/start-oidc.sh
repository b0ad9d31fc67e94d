#!/usr/bin/env bash
# Start a local OpenID Connect provider (panva/oidc-provider from npm, MIT) for the sign-in tests,
# and print its issuer URL. Installs Node.js with apt and the provider with npm when missing
# (into .terrain/oidc). Any login name signs in; the account's email is <login>@terrain.test.
# Usage: scripts/start-oidc.sh PORT CLIENT_ID CLIENT_SECRET APP_ORIGIN   (the process id goes to
# .terrain/oidc/PORT.pid; stop it with `kill "$(cat .terrain/oidc/PORT.pid)"`).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="$1"; CLIENT_ID="$2"; CLIENT_SECRET="$3"; APP_ORIGIN="$4"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
DIR=.terrain/oidc
mkdir -p "$DIR"
if [ ! -d "$DIR/node_modules/oidc-provider" ]; then
  (cd "$DIR" && npm install --no-audit --no-fund --silent oidc-provider@9.13.3 >&2)
fi
cp scripts/oidc-provider.mjs "$DIR/provider.mjs"  # ES modules resolve packages from their own folder
nohup node "$DIR/provider.mjs" "$PORT" "$CLIENT_ID" "$CLIENT_SECRET" "$APP_ORIGIN" >"$DIR/$PORT.log" 2>&1 &
echo $! > "$DIR/$PORT.pid"
for _ in $(seq 1 60); do
  if curl -sf "http://127.0.0.1:$PORT/.well-known/openid-configuration" >/dev/null; then
    echo "http://127.0.0.1:$PORT"
    exit 0
  fi
  sleep 0.5
done
cat "$DIR/$PORT.log" >&2
exit 1
