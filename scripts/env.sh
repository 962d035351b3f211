# shellcheck shell=bash
# Puts the project's Node.js toolchain first on PATH for this shell.
# Usage: source scripts/env.sh   (scripts/setup.sh installs the toolchain it points at)

DBSNAP_TOOLS_DIR="${DBSNAP_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dbsnap}"
export DBSNAP_TOOLS_DIR

if [ -x "$DBSNAP_TOOLS_DIR/node/bin/node" ]; then
  case ":$PATH:" in
    *":$DBSNAP_TOOLS_DIR/node/bin:"*) ;;
    *) PATH="$DBSNAP_TOOLS_DIR/node/bin:$PATH" ;;
  esac
  export PATH
  # Native addons (better-sqlite3) must compile against this Node's headers, not the system's.
  npm_config_nodedir="$DBSNAP_TOOLS_DIR/node"
  export npm_config_nodedir
fi
