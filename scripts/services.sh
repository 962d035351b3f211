#!/usr/bin/env bash
# Starts, checks and stops the real services DBSnap's integration tests use on loopback (PostgreSQL, MariaDB,
# FerretDB as MongoDB, MinIO as S3, and a PostgreSQL and a MariaDB that require TLS) and writes their URLs to
# <repo>/.test-services.env. See docs/test-services.md.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/services.sh up|down|status [service...]

Services: postgres (alias pg), mysql (alias mariadb), mongo (alias ferretdb), s3 (alias minio),
pg-tls and mysql-tls (throwaway servers that refuse connections without TLS).
Without a service name the command applies to all six.

  up      start what is not running, health-check every service, write .test-services.env;
          install chromium for the web view's browser tests when it is missing (as root, apt-get)
  down    stop what this script started (never the machine's own PostgreSQL or MariaDB)
  status  print one line per service; exits 1 when one is down

Settings (environment variables) are described in docs/test-services.md.
EOF
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/env.sh
. "$root/scripts/env.sh"
command -v go >/dev/null 2>&1 || PATH="$PATH:/usr/local/go/bin"

readonly FERRETDB_VERSION="v1.24.2"
readonly MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"
readonly HOST="127.0.0.1"
readonly MONGO_USER="dbsnap"
readonly MINIO_USER="dbsnap"
readonly TLS_USER="dbsnap_tls" # the login of pg-tls and mysql-tls

bin_dir="$(realpath -m "$DBSNAP_TOOLS_DIR/bin")" # resolved, to compare with /proc/PID/exe
svc_dir="$DBSNAP_TOOLS_DIR/services"
env_file="$root/.test-services.env"
timeout_s="${DBSNAP_SERVICES_TIMEOUT:-30}"
pg_probe="${DBSNAP_SERVICES_PG_PROBE:-$HOST:5432}"
mysql_probe="${DBSNAP_SERVICES_MYSQL_PROBE:-$HOST:3306}"
pg_port="${DBSNAP_SERVICES_PG_PORT:-55432}"
mysql_port="${DBSNAP_SERVICES_MYSQL_PORT:-53306}"
mongo_port="${DBSNAP_SERVICES_MONGO_PORT:-27018}"
s3_port="${DBSNAP_SERVICES_S3_PORT:-29000}"
pg_tls_port="${DBSNAP_SERVICES_PG_TLS_PORT:-55433}"
mysql_tls_port="${DBSNAP_SERVICES_MYSQL_TLS_PORT:-53307}"

readonly ALL_SERVICES=(postgres mysql mongo s3 pg-tls mysql-tls)
readonly ENV_KEYS=(DBSNAP_TEST_PG_URL DBSNAP_TEST_MYSQL_URL DBSNAP_TEST_MONGO_URL DBSNAP_TEST_S3_ENDPOINT
  DBSNAP_TEST_S3_BUCKET DBSNAP_TEST_S3_REGION DBSNAP_TEST_S3_ACCESS_KEY_ID DBSNAP_TEST_S3_SECRET_ACCESS_KEY
  DBSNAP_TEST_PG_TLS_URL DBSNAP_TEST_MYSQL_TLS_URL DBSNAP_TEST_TLS_CA_FILE)

declare -A file_env=() # what .test-services.env held when the script started
declare -A new_env=()  # what it will hold
tmp_paths=()

# ---------------------------------------------------------------------------------------------------------
# Helpers

log() { printf 'services: %s\n' "$*" >&2; }
die() {
  printf 'services: error: %s\n' "$*" >&2
  exit 1
}

# fail MESSAGE [LOGFILE]: one-line error naming the failure and its log, then the log's last lines.
fail() {
  if [ -n "${2:-}" ]; then
    printf 'services: error: %s; see %s\n' "$1" "$2" >&2
    if [ -s "$2" ]; then tail -n 12 "$2" | sed 's/^/  | /' >&2; fi
  else
    printf 'services: error: %s\n' "$1" >&2
  fi
  exit 1
}

cleanup() { if [ "${#tmp_paths[@]}" -gt 0 ]; then rm -rf "${tmp_paths[@]}"; fi; }
trap cleanup EXIT

is_root() { [ "$(id -u)" -eq 0 ]; }
random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
redact() { sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#' <<<"$1"; }
url_decode() { printf '%b' "${1//%/\\x}"; }

# port_open HOST PORT: true when something accepts TCP connections there.
# shellcheck disable=SC2016 # $0 and $1 belong to the inner bash
port_open() { timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null; }

# running_pid PIDFILE EXE_PATTERN: prints the pid in PIDFILE when that process is alive and its executable
# matches the glob EXE_PATTERN (guards against a recycled pid).
running_pid() {
  local pid exe
  [ -s "$1" ] || return 1
  pid="$(head -n1 "$1")"
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  exe="$(readlink "/proc/$pid/exe" 2>/dev/null)" || return 1
  exe="${exe% (deleted)}"
  # shellcheck disable=SC2254 # the pattern is meant to glob
  case "$exe" in $2) echo "$pid" ;; *) return 1 ;; esac
}

# start_bg PIDFILE LOGFILE COMMAND...: starts COMMAND in its own session (it outlives this script), from /,
# with output appended to LOGFILE; records its pid. Environment prefixes on the call reach COMMAND.
start_bg() {
  local pidfile="$1" logfile="$2"
  shift 2
  if [ -f "$logfile" ] && [ "$(wc -c <"$logfile")" -gt 10485760 ]; then mv -f "$logfile" "$logfile.old"; fi
  printf '\n=== %s services.sh starts: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$logfile" # no secrets in "$@"
  (
    cd /
    # A background child of a non-interactive shell is no process group leader, so setsid does not fork and
    # $! is the service's own pid. 9>&- keeps the lock file descriptor out of the service.
    setsid "$@" </dev/null >>"$logfile" 2>&1 9>&- &
    echo "$!" >"$pidfile"
  )
}

# stop_pid NAME PIDFILE EXE_PATTERN [SIGNAL]: stops the process in PIDFILE (waiting up to 20 s), removes PIDFILE.
stop_pid() {
  local pid i
  if pid="$(running_pid "$2" "$3")"; then
    kill "-${4:-TERM}" "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$1: pid $pid did not stop within 20 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    log "$1: stopped (pid $pid)"
  fi
  rm -f "$2"
}

# wait_ready DESCRIPTION LOGFILE PID CHECK...: runs CHECK until it succeeds. Fails (naming LOGFILE) when PID
# exits or after $timeout_s seconds. LOGFILE and PID may be empty (external services).
wait_ready() {
  local desc="$1" logfile="$2" pid="$3" out="" deadline=$((SECONDS + timeout_s))
  shift 3
  until out="$("$@" 2>&1)"; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      fail "$desc exited during start-up" "$logfile"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      out="$(printf '%s' "$out" | tr -s '\n' ' ' | cut -c1-200)"
      [ -n "$logfile" ] || out="${out:+$out; }unset the variable to let services.sh start its own server"
      fail "$desc did not pass its health check within ${timeout_s} s${out:+ ($out)}" "$logfile"
    fi
    sleep 0.3
  done
}

# ensure_port_free NAME PORT SETTING: fails when something we do not know already listens on PORT.
ensure_port_free() {
  if port_open "$HOST" "$2"; then
    fail "$1: port $HOST:$2 is taken by a process this script did not start (see: ss -ltnp 'sport = :$2'); stop it or set $3 to another port"
  fi
}

# external_value VAR: prints VAR's value when the caller's environment sets it (that service is then not
# started here, only health-checked).
external_value() {
  [ -n "${!1:-}" ] && printf '%s' "${!1}"
}

# secret_file PATH VAR=LENGTH...: creates PATH (mode 600) with random hex values unless it exists; prints 1
# when it created the file (the caller then discards the service's old data).
secret_file() {
  local path="$1" spec
  shift
  [ -s "$path" ] && return 0
  (
    umask 077
    for spec in "$@"; do printf '%s=%s\n' "${spec%%=*}" "$(random_hex "${spec#*=}")"; done >"$path.tmp"
  )
  mv "$path.tmp" "$path"
  echo 1
}

# secret_get PATH VAR: the value of VAR in a secret file.
secret_get() { sed -n "s/^$2=//p" "$1" | head -n1; }

need_go() {
  command -v go >/dev/null 2>&1 || die "Go is needed to build $1 once (looked on PATH and in /usr/local/go/bin)"
}

go_quiet() { env -u GOFLAGS GOWORK=off go "$@"; }

# ---------------------------------------------------------------------------------------------------------
# Binaries: built once from the Go module proxy into $bin_dir, with the version in the file name.

# ensure_ferretdb: builds the FerretDB binary when missing (~1-2 min). Not in a subshell: its temporary
# directory is registered for the EXIT trap.
ferretdb_bin="$bin_dir/ferretdb-$FERRETDB_VERSION"
ensure_ferretdb() {
  local out="$ferretdb_bin" logfile="$svc_dir/ferretdb/build.log" tmp src
  [ -x "$out" ] && return
  need_go "FerretDB $FERRETDB_VERSION"
  mkdir -p "$bin_dir" "$svc_dir/ferretdb"
  log "mongo: building FerretDB $FERRETDB_VERSION into $bin_dir (first run only, about 2 min); log: $logfile"
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/dbsnap-ferretdb.XXXXXX")"
  tmp_paths+=("$tmp")
  : >"$logfile"
  # The module zip lacks build/version/version.txt, without which the binary panics at start: build from a
  # writable copy of the module source with that file added.
  src="$(cd "$tmp" && go_quiet mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" 2>>"$logfile" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')" || true
  if [ -z "$src" ] || [ ! -d "$src" ]; then
    fail "mongo: go mod download github.com/FerretDB/FerretDB@$FERRETDB_VERSION failed" "$logfile"
  fi
  cp -R "$src" "$tmp/src"
  chmod -R u+w "$tmp/src"
  echo "$FERRETDB_VERSION" >"$tmp/src/build/version/version.txt"
  (cd "$tmp/src" && go_quiet build -trimpath -o "$out.tmp" ./cmd/ferretdb) >>"$logfile" 2>&1 ||
    fail "mongo: building FerretDB $FERRETDB_VERSION failed" "$logfile"
  mv "$out.tmp" "$out"
}

# ensure_minio: builds the MinIO binary when missing (~2-4 min). Not in a subshell (see ensure_ferretdb).
minio_bin="$bin_dir/minio-$MINIO_VERSION"
ensure_minio() {
  local out="$minio_bin" logfile="$svc_dir/minio/build.log" tmp
  [ -x "$out" ] && return
  need_go "MinIO $MINIO_VERSION"
  mkdir -p "$bin_dir" "$svc_dir/minio"
  log "s3: building MinIO $MINIO_VERSION into $bin_dir (first run only, about 4 min); log: $logfile"
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/dbsnap-minio.XXXXXX")"
  tmp_paths+=("$tmp")
  (cd "$tmp" && GOBIN="$tmp/bin" go_quiet install -trimpath "github.com/minio/minio@$MINIO_VERSION") >"$logfile" 2>&1 ||
    fail "s3: building MinIO $MINIO_VERSION failed" "$logfile"
  mv "$tmp/bin/minio" "$out"
}

# ---------------------------------------------------------------------------------------------------------
# PostgreSQL: the machine's server when usable, otherwise a throwaway cluster on $pg_port.

pg_dir="$svc_dir/postgres"
pg_pidfile="$pg_dir/postgres.pid"
pg_log="$pg_dir/postgres.log"

pg_check() { # pg_check URL: SELECT 1 (TCP connect only when psql is missing)
  local out
  if ! command -v psql >/dev/null 2>&1; then
    port_open "$(url_host "$1")" "$(url_port "$1" 5432)"
    return
  fi
  out="$(PGCONNECT_TIMEOUT=3 psql "$1" -XAtqc 'select 1' 2>&1)" || {
    printf '%s\n' "$out" | head -n1
    return 1
  }
  [ "$out" = 1 ]
}

url_host() { sed -E 's#^[a-z+]+://([^@/]*@)?(\[[^]]*\]|[^:/?,]*).*#\2#' <<<"$1"; }
url_port() { # url_port URL DEFAULT
  local p
  p="$(sed -nE 's#^[a-z+]+://([^@/]*@)?(\[[^]]*\]|[^:/?,]*):([0-9]+).*#\3#p' <<<"$1")"
  echo "${p:-$2}"
}

pg_bindir() {
  local d dirs=()
  if [ -n "${DBSNAP_SERVICES_PG_BINDIR:-}" ]; then
    echo "$DBSNAP_SERVICES_PG_BINDIR"
    return
  fi
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/postgres" ] && dirs+=("$d"); done
  if [ "${#dirs[@]}" -gt 0 ]; then
    printf '%s\n' "${dirs[@]}" | sort -V | tail -n1
  elif command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
  else
    return 1
  fi
}

# As root the cluster runs as the postgres user, which may not reach $svc_dir (e.g. under /root).
as_pg_user() { if is_root; then setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; else "$@"; fi; }
pg_datadir() { # pg_datadir SERVICE_DIR PORT
  if is_root && ! (cd / && as_pg_user test -x "$1") 2>/dev/null; then
    echo "${TMPDIR:-/tmp}/dbsnap-postgres-$2"
  else
    echo "$1/data"
  fi
}
pg_own() { if is_root; then chown postgres:postgres "$@"; fi; } # pg_own PATH...: hands PATH to the cluster's user

# pg_init_cluster SERVICE BINDIR DATA LOGFILE: creates a cluster in DATA (superuser postgres, trust) unless
# one is there.
pg_init_cluster() {
  [ -s "$3/PG_VERSION" ] && return 0
  log "$1: creating a throwaway cluster in $3"
  rm -rf "$3"
  mkdir -p "$3"
  chmod 700 "$3"
  pg_own "$3"
  (cd / && as_pg_user "$2/initdb" -D "$3" -U postgres -A trust -E UTF8 --locale=C --no-sync) >>"$4" 2>&1 ||
    fail "$1: initdb of the throwaway cluster failed" "$4"
}

pg_throwaway_up() {
  local bindir data pid url="postgres://postgres@$HOST:$pg_port/postgres"
  mkdir -p "$pg_dir"
  if pid="$(running_pid "$pg_pidfile" '*/postgres')"; then
    wait_ready "postgres (throwaway, pid $pid)" "$pg_log" "$pid" pg_check "$url"
    new_env[DBSNAP_TEST_PG_URL]="$url"
    log "postgres: throwaway server on $HOST:$pg_port already running (pid $pid)"
    return
  fi
  ensure_port_free postgres "$pg_port" DBSNAP_SERVICES_PG_PORT
  bindir="$(pg_bindir)" || fail "postgres: no server at $pg_probe and no PostgreSQL server binaries (initdb) to start one; install the postgresql package or set DBSNAP_TEST_PG_URL"
  data="$(pg_datadir "$pg_dir" "$pg_port")"
  pg_init_cluster postgres "$bindir" "$data" "$pg_log"
  local pg_cmd=("$bindir/postgres" -D "$data" -p "$pg_port" -c "listen_addresses=$HOST" -c "unix_socket_directories="
    -c fsync=off -c synchronous_commit=off -c full_page_writes=off)
  if is_root; then pg_cmd=(setpriv --reuid=postgres --regid=postgres --init-groups -- "${pg_cmd[@]}"); fi
  start_bg "$pg_pidfile" "$pg_log" "${pg_cmd[@]}"
  pid="$(cat "$pg_pidfile")"
  wait_ready "postgres (throwaway on $HOST:$pg_port)" "$pg_log" "$pid" pg_check "$url"
  new_env[DBSNAP_TEST_PG_URL]="$url"
  log "postgres: started a throwaway server on $HOST:$pg_port (pid $pid, data $data)"
}

postgres_up() {
  local url
  if url="$(external_value DBSNAP_TEST_PG_URL)"; then
    wait_ready "postgres: DBSNAP_TEST_PG_URL ($(redact "$url"))" "" "" pg_check "$url"
    new_env[DBSNAP_TEST_PG_URL]="$url"
    log "postgres: using DBSNAP_TEST_PG_URL from the environment ($(redact "$url"))"
    return
  fi
  url="postgres://postgres@$pg_probe/postgres"
  if pg_check "$url" >/dev/null 2>&1; then
    new_env[DBSNAP_TEST_PG_URL]="$url"
    log "postgres: using the machine's server at $pg_probe"
    return
  fi
  log "postgres: no usable server at $pg_probe (user postgres, no password); using a throwaway one"
  pg_throwaway_up
}

postgres_down() {
  stop_pid postgres "$pg_pidfile" '*/postgres' INT # SIGINT: fast shutdown, does not wait for clients
}

postgres_status() {
  local url pid extra=""
  if pid="$(running_pid "$pg_pidfile" '*/postgres')"; then extra="throwaway server on $HOST:$pg_port, started by services.sh (pid $pid)"; fi
  if url="$(external_value DBSNAP_TEST_PG_URL)"; then
    status_line postgres "$(pg_check "$url" >/dev/null 2>&1 && echo up || echo down)" "$(url_host "$url"):$(url_port "$url" 5432)" "external (DBSNAP_TEST_PG_URL)"
  elif pg_check "postgres://postgres@$pg_probe/postgres" >/dev/null 2>&1; then
    status_line postgres up "$pg_probe" "machine's own server${extra:+; also a $extra}"
  elif [ -n "$extra" ]; then
    status_line postgres "$(pg_check "postgres://postgres@$HOST:$pg_port/postgres" >/dev/null 2>&1 && echo up || echo down)" "$HOST:$pg_port" "$extra"
  else
    status_line postgres down "$pg_probe" "no server answers; 'up' starts a throwaway one on $HOST:$pg_port"
  fi
}

# ---------------------------------------------------------------------------------------------------------
# MariaDB / MySQL: the machine's server when usable, otherwise a throwaway one on $mysql_port.

my_dir="$svc_dir/mariadb"
my_pidfile="$my_dir/mariadbd.pid"
my_log="$my_dir/mariadb.log"

mysql_client() { command -v mariadb 2>/dev/null || command -v mysql 2>/dev/null; }

# mysql_check URL [CLIENT_OPTION...]: SELECT 1 over TCP (TCP connect only when no client is installed)
mysql_check() {
  local re='^(mysql|mariadb)://(([^:@/]*)(:([^@/]*))?@)?([^:/?]+)(:([0-9]+))?(/([^?]*))?([?].*)?$'
  local client user pass host port out
  [[ $1 =~ $re ]] || {
    echo "not a mysql://user:password@host:port/database URL"
    return 1
  }
  user="$(url_decode "${BASH_REMATCH[3]}")" pass="$(url_decode "${BASH_REMATCH[5]}")"
  host="${BASH_REMATCH[6]}" port="${BASH_REMATCH[8]:-3306}"
  if ! client="$(mysql_client)"; then
    port_open "$host" "$port"
    return
  fi
  out="$(
    if [ -n "$pass" ]; then export MYSQL_PWD="$pass"; else unset MYSQL_PWD; fi
    timeout 10 "$client" --no-defaults --protocol=TCP -h "$host" -P "$port" -u "${user:-root}" --connect-timeout=3 \
      "${@:2}" -Nse 'select 1' 2>&1
  )" || {
    printf '%s\n' "$out" | head -n1
    return 1
  }
  [ "$out" = 1 ]
}

mariadbd_bin="$(command -v mariadbd 2>/dev/null || echo /usr/sbin/mariadbd)"
install_db_bin="$(command -v mariadb-install-db 2>/dev/null || echo /usr/bin/mariadb-install-db)"
have_mariadb_server() { [ -x "$mariadbd_bin" ] && [ -x "$install_db_bin" ]; }

# my_init_datadir SERVICE DATA LOGFILE: creates a data directory (root without password) unless one is there.
my_init_datadir() {
  [ -d "$2/mysql" ] && return 0
  log "$1: creating a throwaway data directory in $2"
  rm -rf "$2"
  mkdir -p "$2"
  "$install_db_bin" --no-defaults --datadir="$2" --user="$(id -un)" --auth-root-authentication-method=normal \
    --skip-test-db >>"$3" 2>&1 || fail "$1: mariadb-install-db for the throwaway server failed" "$3"
}

# my_socket SERVICE_DIR PORT: where the server's Unix socket goes (sun_path holds 108 bytes).
my_socket() {
  local sock="$1/mariadbd.sock"
  if [ "${#sock}" -gt 100 ]; then sock="${TMPDIR:-/tmp}/dbsnap-mariadb-$2.sock"; fi
  echo "$sock"
}

mysql_throwaway_up() {
  local pid sock url="mysql://root@$HOST:$mysql_port/" data="$my_dir/data"
  mkdir -p "$my_dir"
  if pid="$(running_pid "$my_pidfile" '*/mariadbd')"; then
    wait_ready "mysql (throwaway, pid $pid)" "$my_log" "$pid" mysql_check "$url"
    new_env[DBSNAP_TEST_MYSQL_URL]="$url"
    log "mysql: throwaway server on $HOST:$mysql_port already running (pid $pid)"
    return
  fi
  ensure_port_free mysql "$mysql_port" DBSNAP_SERVICES_MYSQL_PORT
  if ! have_mariadb_server; then
    fail "mysql: no server at $mysql_probe and no MariaDB server binaries to start one; install mariadb-server or set DBSNAP_TEST_MYSQL_URL"
  fi
  my_init_datadir mysql "$data" "$my_log"
  sock="$(my_socket "$my_dir" "$mysql_port")"
  # --user=root is the documented way to let mariadbd run as root; the data stays in the services dir.
  start_bg "$my_pidfile" "$my_log" "$mariadbd_bin" --no-defaults --datadir="$data" --port="$mysql_port" \
    --bind-address="$HOST" --socket="$sock" --user="$(id -un)" --skip-name-resolve --skip-log-bin \
    --innodb-buffer-pool-size=64M --innodb-flush-log-at-trx-commit=0
  pid="$(cat "$my_pidfile")"
  wait_ready "mysql (throwaway on $HOST:$mysql_port)" "$my_log" "$pid" mysql_check "$url"
  new_env[DBSNAP_TEST_MYSQL_URL]="$url"
  log "mysql: started a throwaway server on $HOST:$mysql_port (pid $pid, data $data)"
}

mysql_up() {
  local url
  if url="$(external_value DBSNAP_TEST_MYSQL_URL)"; then
    wait_ready "mysql: DBSNAP_TEST_MYSQL_URL ($(redact "$url"))" "" "" mysql_check "$url"
    new_env[DBSNAP_TEST_MYSQL_URL]="$url"
    log "mysql: using DBSNAP_TEST_MYSQL_URL from the environment ($(redact "$url"))"
    return
  fi
  url="mysql://root@$mysql_probe/"
  if mysql_check "$url" >/dev/null 2>&1; then
    new_env[DBSNAP_TEST_MYSQL_URL]="$url"
    log "mysql: using the machine's server at $mysql_probe"
    return
  fi
  log "mysql: no usable server at $mysql_probe (user root, no password); using a throwaway one"
  mysql_throwaway_up
}

mysql_down() {
  stop_pid mysql "$my_pidfile" '*/mariadbd'
}

mysql_status() {
  local url pid extra=""
  if pid="$(running_pid "$my_pidfile" '*/mariadbd')"; then extra="throwaway server on $HOST:$mysql_port, started by services.sh (pid $pid)"; fi
  if url="$(external_value DBSNAP_TEST_MYSQL_URL)"; then
    status_line mysql "$(mysql_check "$url" >/dev/null 2>&1 && echo up || echo down)" "$(url_host "$url"):$(url_port "$url" 3306)" "external (DBSNAP_TEST_MYSQL_URL)"
  elif mysql_check "mysql://root@$mysql_probe/" >/dev/null 2>&1; then
    status_line mysql up "$mysql_probe" "machine's own server${extra:+; also a $extra}"
  elif [ -n "$extra" ]; then
    status_line mysql "$(mysql_check "mysql://root@$HOST:$mysql_port/" >/dev/null 2>&1 && echo up || echo down)" "$HOST:$mysql_port" "$extra"
  else
    status_line mysql down "$mysql_probe" "no server answers; 'up' starts a throwaway one on $HOST:$mysql_port"
  fi
}

# ---------------------------------------------------------------------------------------------------------
# TLS: pg-tls and mysql-tls, throwaway servers that refuse connections without TLS (tests of the "TLS
# required" errors). Both use one self-signed certificate, which is also what clients trust
# (DBSNAP_TEST_TLS_CA_FILE). Unlike postgres and mysql they never use the machine's own servers, and a plain
# `up` skips them (with a log line) when the server binaries or openssl are missing.

tls_dir="$svc_dir/tls"
tls_cert="$tls_dir/cert.pem"
tls_key="$tls_dir/key.pem"

# ensure_tls_cert: generates the certificate (CN and subjectAltName IP 127.0.0.1, 10 years) when missing
# or expiring within a day. A server still running with an older one fails its check and is restarted.
ensure_tls_cert() {
  local logfile="$tls_dir/openssl.log"
  if [ -s "$tls_key" ] && [ -s "$tls_cert" ] && openssl x509 -checkend 86400 -noout -in "$tls_cert" >/dev/null 2>&1; then
    return 0
  fi
  mkdir -p "$tls_dir"
  log "tls: generating a self-signed certificate for $HOST in $tls_dir"
  (
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj "/CN=$HOST" \
      -addext "subjectAltName=IP:$HOST" -keyout "$tls_key.tmp" -out "$tls_cert.tmp"
  ) >"$logfile" 2>&1 || fail "tls: openssl could not generate the certificate" "$logfile"
  chmod 644 "$tls_cert.tmp"
  mv -f "$tls_key.tmp" "$tls_key"
  mv -f "$tls_cert.tmp" "$tls_cert"
}

# tls_ready SERVICE: makes sure the certificate exists; false (after a log line) when openssl is missing.
tls_ready() {
  if ! command -v openssl >/dev/null 2>&1; then
    log "$1: skipped: openssl is needed to generate the server certificate"
    return 1
  fi
  ensure_tls_cert
  if [ -n "${DBSNAP_TEST_TLS_CA_FILE:-}" ] && [ "$DBSNAP_TEST_TLS_CA_FILE" != "$tls_cert" ]; then
    fail "$1: DBSNAP_TEST_TLS_CA_FILE is set to $DBSNAP_TEST_TLS_CA_FILE, but the throwaway server's certificate is $tls_cert; unset it, or set DBSNAP_TEST_PG_TLS_URL and DBSNAP_TEST_MYSQL_TLS_URL too"
  fi
  new_env[DBSNAP_TEST_TLS_CA_FILE]="$tls_cert"
}

# tls_external_ca: an external TLS URL comes with the caller's DBSNAP_TEST_TLS_CA_FILE, if any.
tls_external_ca() {
  if [ -n "${DBSNAP_TEST_TLS_CA_FILE:-}" ]; then
    [ -r "$DBSNAP_TEST_TLS_CA_FILE" ] || fail "DBSNAP_TEST_TLS_CA_FILE ($DBSNAP_TEST_TLS_CA_FILE) is not a readable file"
    new_env[DBSNAP_TEST_TLS_CA_FILE]="$DBSNAP_TEST_TLS_CA_FILE"
  fi
}

pgt_dir="$svc_dir/postgres-tls"
pgt_pidfile="$pgt_dir/postgres.pid"
pgt_log="$pgt_dir/postgres.log"
pgt_secret="$pgt_dir/credentials"

pgt_url() { echo "postgres://$TLS_USER:$(secret_get "$pgt_secret" PASSWORD)@$HOST:$pg_tls_port/postgres"; }

# pg_tls_check URL [CA_FILE]: SELECT 1 over TLS, with sslmode=verify-full against CA_FILE, else require (an
# sslmode in URL wins). The password reaches psql through PGPASSWORD, not its command line.
pg_tls_check() {
  local re='^(postgres(ql)?://[^:@/]*):([^@/]*)@(.*)$' url="$1" pw=""
  if [[ $url =~ $re ]]; then
    pw="$(url_decode "${BASH_REMATCH[3]}")" url="${BASH_REMATCH[1]}@${BASH_REMATCH[4]}"
  fi
  if [ -n "${2:-}" ]; then
    PGPASSWORD="$pw" PGSSLMODE=verify-full PGSSLROOTCERT="$2" pg_check "$url"
  else
    PGPASSWORD="$pw" PGSSLMODE=require pg_check "$url"
  fi
}

# pgt_admin BINDIR SOCKET_DIR: runs the SQL on stdin as the superuser postgres over the Unix socket.
pgt_admin() {
  local psql="$1/psql"
  [ -x "$psql" ] || psql=psql
  PGCONNECT_TIMEOUT=3 "$psql" -h "$2" -p "$pg_tls_port" -U postgres -d postgres -XAtq -v ON_ERROR_STOP=1 2>&1
}
pgt_admin_ping() { pgt_admin "$1" "$2" <<<'select 1' >/dev/null; }

pg_tls_up() {
  local url bindir data sock pid out
  if url="$(external_value DBSNAP_TEST_PG_TLS_URL)"; then
    wait_ready "pg-tls: DBSNAP_TEST_PG_TLS_URL ($(redact "$url"))" "" "" pg_tls_check "$url" "${DBSNAP_TEST_TLS_CA_FILE:-}"
    new_env[DBSNAP_TEST_PG_TLS_URL]="$url"
    tls_external_ca
    log "pg-tls: using DBSNAP_TEST_PG_TLS_URL from the environment ($(redact "$url"))"
    return
  fi
  if ! bindir="$(pg_bindir)"; then
    log "pg-tls: skipped: no PostgreSQL server binaries (initdb); install the postgresql package or set DBSNAP_TEST_PG_TLS_URL"
    return
  fi
  tls_ready pg-tls || return 0
  mkdir -p "$pgt_dir"
  secret_file "$pgt_secret" PASSWORD=16 >/dev/null
  url="$(pgt_url)"
  if pid="$(running_pid "$pgt_pidfile" '*/postgres')"; then
    if pg_tls_check "$url" "$tls_cert" >/dev/null 2>&1; then
      new_env[DBSNAP_TEST_PG_TLS_URL]="$url"
      log "pg-tls: throwaway server on $HOST:$pg_tls_port already running (pid $pid)"
      return
    fi
    stop_pid pg-tls "$pgt_pidfile" '*/postgres' INT # another certificate or password, or not answering
  fi
  ensure_port_free pg-tls "$pg_tls_port" DBSNAP_SERVICES_PG_TLS_PORT
  data="$(pg_datadir "$pgt_dir" "$pg_tls_port")"
  pg_init_cluster pg-tls "$bindir" "$data" "$pgt_log"
  # Rewritten at each start. The key must belong to the server's user, mode 600. Without a hostnossl line a
  # plain connection gets the implicit reject: 'no pg_hba.conf entry for host ..., no encryption' (an
  # explicit 'hostnossl ... reject' line would change it to 'pg_hba.conf rejects connection ...').
  cp -f "$tls_cert" "$data/server.crt"
  (umask 077 && cp -f "$tls_key" "$data/server.key")
  chmod 600 "$data/server.key"
  cat >"$data/pg_hba.conf" <<EOF
# Written by scripts/services.sh (pg-tls).
local   all  postgres                   trust
hostssl all  all       $HOST/32  scram-sha-256
EOF
  pg_own "$data/server.crt" "$data/server.key" "$data/pg_hba.conf"
  sock="$data" # the admin's Unix socket (sun_path holds 108 bytes)
  if [ "${#sock}" -gt 80 ]; then
    sock="${TMPDIR:-/tmp}/dbsnap-pg-tls-$pg_tls_port"
    mkdir -p "$sock"
    chmod 700 "$sock"
    pg_own "$sock"
  fi
  local pg_cmd=("$bindir/postgres" -D "$data" -p "$pg_tls_port" -c "listen_addresses=$HOST"
    -c "unix_socket_directories=$sock" -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key
    -c password_encryption=scram-sha-256 -c fsync=off -c synchronous_commit=off -c full_page_writes=off)
  if is_root; then pg_cmd=(setpriv --reuid=postgres --regid=postgres --init-groups -- "${pg_cmd[@]}"); fi
  start_bg "$pgt_pidfile" "$pgt_log" "${pg_cmd[@]}"
  pid="$(cat "$pgt_pidfile")"
  wait_ready "pg-tls (throwaway on $HOST:$pg_tls_port)" "$pgt_log" "$pid" pgt_admin_ping "$bindir" "$sock"
  # The password is set at every start, so a new credentials file or a recreated cluster just works.
  out="$(pgt_admin "$bindir" "$sock" <<EOF
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$TLS_USER') THEN CREATE ROLE $TLS_USER LOGIN; END IF;
END \$\$;
ALTER ROLE $TLS_USER LOGIN PASSWORD '$(secret_get "$pgt_secret" PASSWORD)';
EOF
  )" || fail "pg-tls: creating the role $TLS_USER failed ($(head -n1 <<<"$out"))" "$pgt_log"
  wait_ready "pg-tls (throwaway on $HOST:$pg_tls_port), TLS login as $TLS_USER" "$pgt_log" "$pid" \
    pg_tls_check "$url" "$tls_cert"
  new_env[DBSNAP_TEST_PG_TLS_URL]="$url"
  log "pg-tls: started a throwaway server requiring TLS on $HOST:$pg_tls_port (pid $pid, data $data)"
}

pg_tls_down() {
  stop_pid pg-tls "$pgt_pidfile" '*/postgres' INT
}

pg_tls_status() {
  local url pid
  if url="$(external_value DBSNAP_TEST_PG_TLS_URL)"; then
    status_line pg-tls "$(pg_tls_check "$url" "${DBSNAP_TEST_TLS_CA_FILE:-}" >/dev/null 2>&1 && echo up || echo down)" \
      "$(url_host "$url"):$(url_port "$url" 5432)" "external (DBSNAP_TEST_PG_TLS_URL)"
  elif pid="$(running_pid "$pgt_pidfile" '*/postgres')"; then
    status_line pg-tls "$([ -s "$pgt_secret" ] && pg_tls_check "$(pgt_url)" "$tls_cert" >/dev/null 2>&1 && echo up || echo down)" \
      "$HOST:$pg_tls_port" "throwaway server requiring TLS, started by services.sh (pid $pid)"
  elif ! pg_bindir >/dev/null || ! command -v openssl >/dev/null 2>&1; then
    status_line pg-tls skip "$HOST:$pg_tls_port" "needs PostgreSQL server binaries and openssl"
  else
    status_line pg-tls down "$HOST:$pg_tls_port" "throwaway server requiring TLS not running"
  fi
}

myt_dir="$svc_dir/mariadb-tls"
myt_pidfile="$myt_dir/mariadbd.pid"
myt_log="$myt_dir/mariadb.log"
myt_secret="$myt_dir/credentials"

myt_url() { echo "mysql://$TLS_USER:$(secret_get "$myt_secret" PASSWORD)@$HOST:$mysql_tls_port/"; }

# mysql_tls_check URL [CA_FILE]: SELECT 1 over TLS, verifying certificate and host name against CA_FILE.
mysql_tls_check() {
  if [ -n "${2:-}" ]; then
    mysql_check "$1" --ssl --ssl-ca="$2" --ssl-verify-server-cert
  else
    mysql_check "$1" --ssl
  fi
}

# myt_admin SOCKET: runs the SQL on stdin as root over the Unix socket (which counts as secure transport).
myt_admin() {
  local client
  client="$(mysql_client)" || {
    echo "no mariadb or mysql client installed"
    return 1
  }
  (
    unset MYSQL_PWD
    timeout 10 "$client" --no-defaults --socket="$1" -u root --connect-timeout=3 -N 2>&1
  )
}
myt_admin_ping() { myt_admin "$1" <<<'select 1' >/dev/null; }

mysql_tls_up() {
  local url data="$myt_dir/data" sock pid out pw
  if url="$(external_value DBSNAP_TEST_MYSQL_TLS_URL)"; then
    wait_ready "mysql-tls: DBSNAP_TEST_MYSQL_TLS_URL ($(redact "$url"))" "" "" mysql_tls_check "$url" "${DBSNAP_TEST_TLS_CA_FILE:-}"
    new_env[DBSNAP_TEST_MYSQL_TLS_URL]="$url"
    tls_external_ca
    log "mysql-tls: using DBSNAP_TEST_MYSQL_TLS_URL from the environment ($(redact "$url"))"
    return
  fi
  if ! have_mariadb_server; then
    log "mysql-tls: skipped: no MariaDB server binaries; install mariadb-server or set DBSNAP_TEST_MYSQL_TLS_URL"
    return
  fi
  tls_ready mysql-tls || return 0
  mkdir -p "$myt_dir"
  secret_file "$myt_secret" PASSWORD=16 >/dev/null
  url="$(myt_url)"
  if pid="$(running_pid "$myt_pidfile" '*/mariadbd')"; then
    if mysql_tls_check "$url" "$tls_cert" >/dev/null 2>&1; then
      new_env[DBSNAP_TEST_MYSQL_TLS_URL]="$url"
      log "mysql-tls: throwaway server on $HOST:$mysql_tls_port already running (pid $pid)"
      return
    fi
    stop_pid mysql-tls "$myt_pidfile" '*/mariadbd' # another certificate or password, or not answering
  fi
  ensure_port_free mysql-tls "$mysql_tls_port" DBSNAP_SERVICES_MYSQL_TLS_PORT
  my_init_datadir mysql-tls "$data" "$myt_log"
  sock="$(my_socket "$myt_dir" "$mysql_tls_port")"
  start_bg "$myt_pidfile" "$myt_log" "$mariadbd_bin" --no-defaults --datadir="$data" --port="$mysql_tls_port" \
    --bind-address="$HOST" --socket="$sock" --user="$(id -un)" --skip-name-resolve --skip-log-bin \
    --innodb-buffer-pool-size=64M --innodb-flush-log-at-trx-commit=0 \
    --ssl-cert="$tls_cert" --ssl-key="$tls_key" --require-secure-transport=ON
  pid="$(cat "$myt_pidfile")"
  wait_ready "mysql-tls (throwaway on $HOST:$mysql_tls_port)" "$myt_log" "$pid" myt_admin_ping "$sock"
  pw="$(secret_get "$myt_secret" PASSWORD)"
  out="$(myt_admin "$sock" <<EOF
CREATE USER IF NOT EXISTS '$TLS_USER'@'%' IDENTIFIED BY '$pw';
ALTER USER '$TLS_USER'@'%' IDENTIFIED BY '$pw';
GRANT SELECT ON *.* TO '$TLS_USER'@'%';
EOF
  )" || fail "mysql-tls: creating the user $TLS_USER failed ($(head -n1 <<<"$out"))" "$myt_log"
  wait_ready "mysql-tls (throwaway on $HOST:$mysql_tls_port), TLS login as $TLS_USER" "$myt_log" "$pid" \
    mysql_tls_check "$url" "$tls_cert"
  new_env[DBSNAP_TEST_MYSQL_TLS_URL]="$url"
  log "mysql-tls: started a throwaway server requiring TLS on $HOST:$mysql_tls_port (pid $pid, data $data)"
}

mysql_tls_down() {
  stop_pid mysql-tls "$myt_pidfile" '*/mariadbd'
}

mysql_tls_status() {
  local url pid
  if url="$(external_value DBSNAP_TEST_MYSQL_TLS_URL)"; then
    status_line mysql-tls "$(mysql_tls_check "$url" "${DBSNAP_TEST_TLS_CA_FILE:-}" >/dev/null 2>&1 && echo up || echo down)" \
      "$(url_host "$url"):$(url_port "$url" 3306)" "external (DBSNAP_TEST_MYSQL_TLS_URL)"
  elif pid="$(running_pid "$myt_pidfile" '*/mariadbd')"; then
    status_line mysql-tls "$([ -s "$myt_secret" ] && mysql_tls_check "$(myt_url)" "$tls_cert" >/dev/null 2>&1 && echo up || echo down)" \
      "$HOST:$mysql_tls_port" "throwaway MariaDB requiring TLS, started by services.sh (pid $pid)"
  elif ! have_mariadb_server || ! command -v openssl >/dev/null 2>&1; then
    status_line mysql-tls skip "$HOST:$mysql_tls_port" "needs MariaDB server binaries and openssl"
  else
    status_line mysql-tls down "$HOST:$mysql_tls_port" "throwaway MariaDB requiring TLS not running"
  fi
}

# ---------------------------------------------------------------------------------------------------------
# MongoDB: FerretDB v1 with the SQLite backend and SCRAM authentication, on $mongo_port.

fe_dir="$svc_dir/ferretdb"
fe_pidfile="$fe_dir/ferretdb.pid"
fe_log="$fe_dir/ferretdb.log"
fe_secret="$fe_dir/credentials"

# mongo_ping HOST PORT: sends OP_MSG {ping: 1, $db: "admin"} and succeeds when the reply holds ok: 1.0.
mongo_ping() {
  local len hex
  { exec 3<>"/dev/tcp/$1/$2"; } 2>/dev/null || {
    echo "cannot connect to $1:$2"
    return 1
  }
  # header (length 51, requestID 1, responseTo 0, opCode 2013 OP_MSG), flags 0, section kind 0, 30-byte BSON
  printf '\x33\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\xdd\x07\x00\x00\x00\x00\x00\x00\x00' >&3
  # shellcheck disable=SC2016 # a literal $db
  printf '\x1e\x00\x00\x00\x10ping\x00\x01\x00\x00\x00\x02$db\x00\x06\x00\x00\x00admin\x00\x00' >&3
  len="$(timeout 5 head -c 4 <&3 | od -An -tu4 | tr -d ' \n')" || true
  if ! [[ $len =~ ^[0-9]+$ ]] || [ "$len" -le 4 ] || [ "$len" -gt 1048576 ]; then
    exec 3<&-
    echo "no MongoDB wire-protocol reply from $1:$2"
    return 1
  fi
  hex="$(timeout 5 head -c $((len - 4)) <&3 | od -An -v -tx1 | tr -d ' \n')" || true
  exec 3<&-
  case "$hex" in
    *016f6b00000000000000f03f*) return 0 ;; # "ok": 1.0
    *)
      echo "ping to $1:$2 did not answer ok: 1"
      return 1
      ;;
  esac
}

# mongo_auth_check URL: connects with the mongodb driver (authenticating with the URL's credentials) and
# pings. Exit 2 when node or the driver is not installed yet (scripts/setup.sh installs them).
mongo_auth_check() {
  command -v node >/dev/null 2>&1 || return 2
  (cd "$root" && DBSNAP_CHECK_URL="$1" timeout 30 node --input-type=module -e '
let MongoClient;
try {
  ({ MongoClient } = await import("mongodb"));
} catch {
  process.exit(2);
}
const client = new MongoClient(process.env.DBSNAP_CHECK_URL, { serverSelectionTimeoutMS: 5000 });
try {
  await client.connect();
  await client.db("admin").command({ ping: 1 });
} catch (e) {
  console.log(String(e?.message ?? e).split("\n")[0]);
  process.exitCode = 1;
} finally {
  await client.close();
}
')
}

mongo_check() { # mongo_check URL: wire-protocol ping (no credentials needed)
  case "$1" in
    mongodb+srv://*) return 0 ;; # needs DNS SRV look-ups; left to the driver
    mongodb://*) mongo_ping "$(url_host "$1")" "$(url_port "$1" 27017)" ;;
    *)
      echo "not a mongodb:// URL"
      return 1
      ;;
  esac
}

# mongo_verify DESCRIPTION LOGFILE URL: the driver must log in with the URL's credentials.
mongo_verify() {
  local out rc=0
  out="$(mongo_auth_check "$3")" || rc=$?
  case "$rc" in
    0) ;;
    2) log "mongo: login not checked: the mongodb driver is not installed yet (run scripts/setup.sh)" ;;
    *) fail "$1 rejected the login of its URL: ${out:-driver check failed (exit $rc)}" "$2" ;;
  esac
}

mongo_up() {
  local url bin pid pw data="$fe_dir/data" state="$fe_dir/state"
  if url="$(external_value DBSNAP_TEST_MONGO_URL)"; then
    wait_ready "mongo: DBSNAP_TEST_MONGO_URL ($(redact "$url"))" "" "" mongo_check "$url"
    mongo_verify "mongo: DBSNAP_TEST_MONGO_URL ($(redact "$url"))" "" "$url"
    new_env[DBSNAP_TEST_MONGO_URL]="$url"
    log "mongo: using DBSNAP_TEST_MONGO_URL from the environment ($(redact "$url"))"
    return
  fi
  ensure_ferretdb
  bin="$ferretdb_bin"
  mkdir -p "$fe_dir"
  if [ -n "$(secret_file "$fe_secret" MONGO_PASSWORD=16)" ]; then
    # New password: the old database (with the old user) is of no use.
    stop_pid mongo "$fe_pidfile" "$bin_dir/ferretdb-*"
    rm -rf "$data" "$state"
  fi
  pw="$(secret_get "$fe_secret" MONGO_PASSWORD)"
  # No '&' in the URL, so that the env file can also be sourced by a shell.
  url="mongodb://$MONGO_USER:$pw@$HOST:$mongo_port/?authSource=admin"
  if pid="$(running_pid "$fe_pidfile" "$bin_dir/ferretdb-*")"; then
    if [ "$(readlink "/proc/$pid/exe")" = "$bin" ] && mongo_check "$url" >/dev/null 2>&1; then
      mongo_verify "mongo (FerretDB pid $pid)" "$fe_log" "$url"
      new_env[DBSNAP_TEST_MONGO_URL]="$url"
      log "mongo: FerretDB $FERRETDB_VERSION on $HOST:$mongo_port already running (pid $pid)"
      return
    fi
    stop_pid mongo "$fe_pidfile" "$bin_dir/ferretdb-*" # another version, or not answering
  fi
  ensure_port_free mongo "$mongo_port" DBSNAP_SERVICES_MONGO_PORT
  mkdir -p "$data" "$state"
  # The password goes in through the environment, not the command line (visible in ps).
  FERRETDB_SETUP_PASSWORD="$pw" start_bg "$fe_pidfile" "$fe_log" "$bin" --handler=sqlite \
    --sqlite-url="file:$data/" --state-dir="$state" --listen-addr="$HOST:$mongo_port" --debug-addr=- \
    --telemetry=disable --log-level=ERROR --test-enable-new-auth \
    --setup-username="$MONGO_USER" --setup-database=admin
  pid="$(cat "$fe_pidfile")"
  wait_ready "mongo (FerretDB on $HOST:$mongo_port)" "$fe_log" "$pid" mongo_check "$url"
  mongo_verify "mongo (FerretDB on $HOST:$mongo_port)" "$fe_log" "$url"
  new_env[DBSNAP_TEST_MONGO_URL]="$url"
  log "mongo: started FerretDB $FERRETDB_VERSION on $HOST:$mongo_port (pid $pid)"
}

mongo_down() {
  stop_pid mongo "$fe_pidfile" "$bin_dir/ferretdb-*"
}

mongo_status() {
  local url pid
  if url="$(external_value DBSNAP_TEST_MONGO_URL)"; then
    status_line mongo "$(mongo_check "$url" >/dev/null 2>&1 && echo up || echo down)" "$(url_host "$url"):$(url_port "$url" 27017)" "external (DBSNAP_TEST_MONGO_URL)"
  elif pid="$(running_pid "$fe_pidfile" "$bin_dir/ferretdb-*")"; then
    status_line mongo "$(mongo_ping "$HOST" "$mongo_port" >/dev/null 2>&1 && echo up || echo down)" "$HOST:$mongo_port" \
      "FerretDB $(basename "$(readlink "/proc/$pid/exe")" | sed 's/^ferretdb-//'), started by services.sh (pid $pid)"
  else
    status_line mongo down "$HOST:$mongo_port" "FerretDB not running"
  fi
}

# ---------------------------------------------------------------------------------------------------------
# S3: MinIO on $s3_port with generated root credentials and the bucket dbsnap-test.

mi_dir="$svc_dir/minio"
mi_pidfile="$mi_dir/minio.pid"
mi_log="$mi_dir/minio.log"
mi_secret="$mi_dir/credentials"

# s3_request METHOD URL KEY SECRET REGION: prints the HTTP status of a SigV4-signed request (000: no answer).
# The credentials reach curl through its config on stdin, not the command line.
s3_request() {
  local method=(-X "$1")
  [ "$1" = HEAD ] && method=(-I)
  printf 'user = "%s:%s"\n' "$3" "$4" |
    curl -sS -o /dev/null -w '%{http_code}' --max-time 10 -K - --aws-sigv4 "aws:amz:$5:s3" "${method[@]}" "$2" 2>/dev/null || true
}

# s3_bucket_check ENDPOINT KEY SECRET REGION BUCKET: the bucket is reachable with these credentials
# (created when missing).
s3_bucket_check() {
  local code
  code="$(s3_request HEAD "$1/$5" "$2" "$3" "$4")"
  case "$code" in
    200) return 0 ;;
    404)
      code="$(s3_request PUT "$1/$5" "$2" "$3" "$4")"
      case "$code" in 200 | 409) return 0 ;; esac
      echo "creating bucket $5 answered HTTP $code"
      ;;
    000) echo "no answer from $1" ;;
    301 | 400 | 403) echo "HEAD $1/$5 answered HTTP $code (wrong credentials or region?)" ;;
    *) echo "HEAD $1/$5 answered HTTP $code" ;;
  esac
  return 1
}

minio_live() { curl -fsS -o /dev/null --max-time 3 "http://$HOST:$s3_port/minio/health/live" 2>&1; }

set_s3_env() { # set_s3_env ENDPOINT BUCKET REGION KEY SECRET
  new_env[DBSNAP_TEST_S3_ENDPOINT]="$1"
  new_env[DBSNAP_TEST_S3_BUCKET]="$2"
  new_env[DBSNAP_TEST_S3_REGION]="$3"
  new_env[DBSNAP_TEST_S3_ACCESS_KEY_ID]="$4"
  new_env[DBSNAP_TEST_S3_SECRET_ACCESS_KEY]="$5"
}

s3_up() {
  local endpoint bin pid key secret bucket region
  if endpoint="$(external_value DBSNAP_TEST_S3_ENDPOINT)"; then
    endpoint="${endpoint%/}"
    bucket="${DBSNAP_TEST_S3_BUCKET:-dbsnap-test}" region="${DBSNAP_TEST_S3_REGION:-us-east-1}"
    key="${DBSNAP_TEST_S3_ACCESS_KEY_ID:-}" secret="${DBSNAP_TEST_S3_SECRET_ACCESS_KEY:-}"
    if [ -z "$key" ] || [ -z "$secret" ]; then
      fail "s3: DBSNAP_TEST_S3_ENDPOINT is set, so DBSNAP_TEST_S3_ACCESS_KEY_ID and DBSNAP_TEST_S3_SECRET_ACCESS_KEY must be too"
    fi
    wait_ready "s3: DBSNAP_TEST_S3_ENDPOINT ($endpoint), bucket $bucket" "" "" \
      s3_bucket_check "$endpoint" "$key" "$secret" "$region" "$bucket"
    set_s3_env "$endpoint" "$bucket" "$region" "$key" "$secret"
    log "s3: using DBSNAP_TEST_S3_ENDPOINT from the environment ($endpoint, bucket $bucket)"
    return
  fi
  ensure_minio
  bin="$minio_bin"
  endpoint="http://$HOST:$s3_port" bucket="dbsnap-test" region="us-east-1"
  mkdir -p "$mi_dir"
  if [ -n "$(secret_file "$mi_secret" MINIO_ROOT_PASSWORD=20)" ]; then
    # New credentials: MinIO's old data was written under the old ones.
    stop_pid s3 "$mi_pidfile" "$bin_dir/minio-*"
    rm -rf "$mi_dir/data"
  fi
  key="$MINIO_USER" secret="$(secret_get "$mi_secret" MINIO_ROOT_PASSWORD)"
  if pid="$(running_pid "$mi_pidfile" "$bin_dir/minio-*")"; then
    if [ "$(readlink "/proc/$pid/exe")" = "$bin" ] && minio_live >/dev/null 2>&1; then
      wait_ready "s3 (MinIO pid $pid), bucket $bucket" "$mi_log" "$pid" \
        s3_bucket_check "$endpoint" "$key" "$secret" "$region" "$bucket"
      set_s3_env "$endpoint" "$bucket" "$region" "$key" "$secret"
      log "s3: MinIO on $HOST:$s3_port already running (pid $pid)"
      return
    fi
    stop_pid s3 "$mi_pidfile" "$bin_dir/minio-*"
  fi
  ensure_port_free s3 "$s3_port" DBSNAP_SERVICES_S3_PORT
  mkdir -p "$mi_dir/data"
  MINIO_ROOT_USER="$key" MINIO_ROOT_PASSWORD="$secret" MINIO_UPDATE=off MINIO_CALLHOME_ENABLE=off \
    MINIO_BROWSER=off start_bg "$mi_pidfile" "$mi_log" "$bin" server --address "$HOST:$s3_port" --quiet \
    --anonymous "$mi_dir/data"
  pid="$(cat "$mi_pidfile")"
  wait_ready "s3 (MinIO on $HOST:$s3_port)" "$mi_log" "$pid" minio_live
  wait_ready "s3 (MinIO on $HOST:$s3_port), bucket $bucket" "$mi_log" "$pid" \
    s3_bucket_check "$endpoint" "$key" "$secret" "$region" "$bucket"
  set_s3_env "$endpoint" "$bucket" "$region" "$key" "$secret"
  log "s3: started MinIO on $HOST:$s3_port (pid $pid), bucket $bucket"
}

s3_down() {
  stop_pid s3 "$mi_pidfile" "$bin_dir/minio-*"
}

s3_status() {
  local endpoint pid
  if endpoint="$(external_value DBSNAP_TEST_S3_ENDPOINT)"; then
    status_line s3 "$(curl -s -o /dev/null --max-time 3 "$endpoint" && echo up || echo down)" \
      "$(url_host "$endpoint"):$(url_port "$endpoint" 80)" "external (DBSNAP_TEST_S3_ENDPOINT)"
  elif pid="$(running_pid "$mi_pidfile" "$bin_dir/minio-*")"; then
    status_line s3 "$(minio_live >/dev/null 2>&1 && echo up || echo down)" "$HOST:$s3_port" "MinIO, started by services.sh (pid $pid)"
  else
    status_line s3 down "$HOST:$s3_port" "MinIO not running"
  fi
}

# ---------------------------------------------------------------------------------------------------------
# Env file and commands

status_failed=0
status_line() { # status_line SERVICE up|down|skip ADDRESS WHO (skip: an optional service that cannot run here)
  printf '%-9s %-5s %-22s %s\n' "$1" "$2" "$3" "$4"
  case "$2" in up | skip) ;; *) status_failed=1 ;; esac
}

service_keys() {
  case "$1" in
    postgres) echo DBSNAP_TEST_PG_URL ;;
    mysql) echo DBSNAP_TEST_MYSQL_URL ;;
    mongo) echo DBSNAP_TEST_MONGO_URL ;;
    s3) echo DBSNAP_TEST_S3_ENDPOINT DBSNAP_TEST_S3_BUCKET DBSNAP_TEST_S3_REGION DBSNAP_TEST_S3_ACCESS_KEY_ID \
      DBSNAP_TEST_S3_SECRET_ACCESS_KEY ;;
    pg-tls) echo DBSNAP_TEST_PG_TLS_URL ;;
    mysql-tls) echo DBSNAP_TEST_MYSQL_TLS_URL ;;
  esac # DBSNAP_TEST_TLS_CA_FILE, shared by the TLS services: see write_env_file
}

read_env_file() {
  local line
  [ -f "$env_file" ] || return 0
  while IFS= read -r line || [ -n "$line" ]; do
    [[ $line =~ ^(DBSNAP_TEST_[A-Z0-9_]+)=(.*)$ ]] && file_env[${BASH_REMATCH[1]}]="${BASH_REMATCH[2]}"
  done <"$env_file"
}

# write_env_file SERVICE...: the new values of SERVICE's keys (dropped when unset), the others as they were.
write_env_file() {
  local svc k tmp lines=0
  declare -A merged=()
  for k in "${!file_env[@]}"; do merged[$k]="${file_env[$k]}"; done
  for svc in "$@"; do
    for k in $(service_keys "$svc"); do
      if [ -n "${new_env[$k]:-}" ]; then merged[$k]="${new_env[$k]}"; else unset "merged[$k]"; fi
    done
  done
  # The CA file stays while one TLS URL does.
  k=DBSNAP_TEST_TLS_CA_FILE
  if [ -n "${new_env[$k]:-}" ]; then merged[$k]="${new_env[$k]}"; fi
  if [ -z "${merged[DBSNAP_TEST_PG_TLS_URL]:-}" ] && [ -z "${merged[DBSNAP_TEST_MYSQL_TLS_URL]:-}" ]; then
    unset "merged[$k]"
  fi
  tmp="$env_file.tmp.$$"
  tmp_paths+=("$tmp")
  (
    umask 077
    for k in "${ENV_KEYS[@]}"; do
      if [ -n "${merged[$k]:-}" ]; then printf '%s=%s\n' "$k" "${merged[$k]}"; fi
    done >"$tmp"
  )
  lines="$(wc -l <"$tmp")"
  if [ "$lines" -gt 0 ]; then
    mv "$tmp" "$env_file"
  else
    rm -f "$tmp" "$env_file"
  fi
}

lock() {
  mkdir -p "$svc_dir"
  exec 9>"$svc_dir/.lock"
  flock -w 900 9 || die "another services.sh has held $svc_dir/.lock for 15 min"
}

# ---------------------------------------------------------------------------------------------------------
# Chromium for the web view's browser tests (Playwright drives the system's browser; it downloads none)

ensure_chromium() {
  local browser="${DBSNAP_CHROMIUM:-/usr/bin/chromium}"
  command -v "$browser" >/dev/null 2>&1 && return 0
  if is_root && command -v apt-get >/dev/null 2>&1; then
    log "installing chromium (the browser tests use it)"
    if DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-liberation >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-liberation >/dev/null 2>&1; }; then
      return 0
    fi
  fi
  log "warning: no chromium: the browser tests will fail (apt-get install chromium fonts-liberation, or set DBSNAP_CHROMIUM)"
}

main() {
  local action="${1:-}" svc start=$SECONDS
  local services=()
  [ $# -gt 0 ] && shift
  case "$action" in
    up | down | status) ;;
    -h | --help | help)
      usage
      return 0
      ;;
    *)
      usage >&2
      return 2
      ;;
  esac
  for svc in "$@"; do
    case "$svc" in
      postgres | pg | postgresql) services+=(postgres) ;;
      mysql | mariadb) services+=(mysql) ;;
      mongo | mongodb | ferretdb) services+=(mongo) ;;
      s3 | minio) services+=(s3) ;;
      pg-tls | postgres-tls) services+=(pg-tls) ;;
      mysql-tls | mariadb-tls) services+=(mysql-tls) ;;
      *) die "unknown service '$svc' (postgres, mysql, mongo, s3, pg-tls, mysql-tls)" ;;
    esac
  done
  [ "${#services[@]}" -gt 0 ] || services=("${ALL_SERVICES[@]}")
  case "$action" in up | down) lock ;; esac
  read_env_file

  case "$action" in
    up)
      for svc in "${services[@]}"; do "${svc//-/_}_up"; done
      ensure_chromium
      write_env_file "${services[@]}"
      log "ready in $((SECONDS - start)) s; wrote $env_file"
      ;;
    down)
      for svc in "${services[@]}"; do "${svc//-/_}_down"; done
      write_env_file "${services[@]}"
      ;;
    status)
      for svc in "${services[@]}"; do "${svc//-/_}_status"; done
      return "$status_failed"
      ;;
  esac
}

main "$@"
