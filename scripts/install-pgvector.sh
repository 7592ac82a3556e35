#!/usr/bin/env bash
# Make the pgvector extension available to the local PostgreSQL server.
# Idempotent: does nothing (except a live check) when vector.control is already installed.
# Builds Debian's pgvector 0.8.0 source tarball (Debian 12 ships no pgvector package).
set -euo pipefail

PGVECTOR_VERSION=0.8.0
TARBALL="pgvector_${PGVECTOR_VERSION}.orig.tar.gz"
SHA256=867a2c328d4928a5a9d6f052cd3bc78c7d60228a9b914ad32aa3db88e9de27b0
PGHOST_CHECK=${PGHOST_CHECK:-127.0.0.1}
export DEBIAN_FRONTEND=noninteractive

log() { echo "[install-pgvector] $*"; }
die() { echo "[install-pgvector] ERROR: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root"

# --- server major version ---------------------------------------------------
# /usr/bin/pg_config may be libpq-dev's (client library version), so cross-check
# against the clusters that actually exist in /etc/postgresql.
server_majors=""
if [ -d /etc/postgresql ]; then
  server_majors=$(ls -1 /etc/postgresql 2>/dev/null | grep -E '^[0-9]+$' | sort -n || true)
fi
MAJOR=""
if command -v pg_config >/dev/null 2>&1; then
  MAJOR=$(pg_config --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
  if [ -n "$server_majors" ] && ! grep -qx "$MAJOR" <<<"$server_majors"; then
    log "pg_config reports $MAJOR but no cluster for it in /etc/postgresql; using the server's version"
    MAJOR=""
  fi
fi
if [ -z "$MAJOR" ]; then
  [ -n "$server_majors" ] || die "cannot find PostgreSQL: no pg_config and nothing in /etc/postgresql"
  MAJOR=$(tail -n1 <<<"$server_majors")
fi
[[ "$MAJOR" =~ ^[0-9]+$ ]] || die "could not parse PostgreSQL major version (got '$MAJOR')"
log "PostgreSQL server major version: $MAJOR"

# The version-specific pg_config (from postgresql-server-dev-$MAJOR / postgresql-$MAJOR).
PG_CONFIG_BIN=/usr/lib/postgresql/$MAJOR/bin/pg_config

sharedir_for_check() {
  if [ -x "$PG_CONFIG_BIN" ]; then
    "$PG_CONFIG_BIN" --sharedir
  elif command -v pg_config >/dev/null 2>&1; then
    pg_config --sharedir
  else
    echo "/usr/share/postgresql/$MAJOR"
  fi
}

# --- install (skipped if already present) -------------------------------------
CONTROL="$(sharedir_for_check)/extension/vector.control"
if [ -f "$CONTROL" ]; then
  log "pgvector already installed ($CONTROL exists); skipping build"
else
  pkgs=(postgresql-server-dev-"$MAJOR" build-essential curl)
  need_update=0
  for p in "${pkgs[@]}"; do
    # (capture first: `apt-cache | grep -q` can die of SIGPIPE under pipefail)
    policy=$(apt-cache policy "$p" 2>/dev/null || true)
    if ! grep -qE 'Candidate: [^(]' <<<"$policy"; then
      need_update=1
    fi
  done
  if [ "$need_update" -eq 1 ]; then
    log "apt-get update (package lists missing a candidate)"
    apt-get update
  fi
  log "apt-get install -y ${pkgs[*]}"
  if ! apt-get install -y "${pkgs[@]}"; then
    # Stale package lists give 404s; refresh once and retry.
    log "install failed; running apt-get update and retrying"
    apt-get update
    apt-get install -y "${pkgs[@]}"
  fi
  [ -x "$PG_CONFIG_BIN" ] || die "$PG_CONFIG_BIN missing after installing postgresql-server-dev-$MAJOR"

  mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  [ -n "$mirror" ] || die "could not read the Debian mirror from /etc/apt/sources.list.d/debian.sources"
  mirror=${mirror%/}

  workdir=$(mktemp -d /tmp/pgvector-build.XXXXXX)
  trap 'rm -rf "$workdir"' EXIT
  cd "$workdir"
  log "downloading $mirror/pool/main/p/pgvector/$TARBALL"
  curl -fsSL --retry 3 -o "$TARBALL" "$mirror/pool/main/p/pgvector/$TARBALL"
  echo "$SHA256  $TARBALL" | sha256sum -c -
  tar xzf "$TARBALL"
  cd "pgvector-$PGVECTOR_VERSION"
  # OPTFLAGS="" : the default -march=native build can crash on a different CPU.
  log "building pgvector $PGVECTOR_VERSION"
  make OPTFLAGS="" PG_CONFIG="$PG_CONFIG_BIN" -j"$(nproc)"
  make install OPTFLAGS="" PG_CONFIG="$PG_CONFIG_BIN"
  cd /
  CONTROL="$("$PG_CONFIG_BIN" --sharedir)/extension/vector.control"
  [ -f "$CONTROL" ] || die "build finished but $CONTROL is missing"
  log "installed $CONTROL"
fi

# --- live verification in a scratch database ----------------------------------
if ! command -v pg_isready >/dev/null 2>&1 || ! pg_isready -q -h "$PGHOST_CHECK"; then
  log "PostgreSQL is not accepting connections on $PGHOST_CHECK; skipping live verification"
  exit 0
fi
server_major=$(psql -h "$PGHOST_CHECK" -U postgres -d postgres -Atc "select current_setting('server_version_num')::int / 10000")
if [ "$server_major" != "$MAJOR" ]; then
  die "running server is PostgreSQL $server_major but pgvector was installed for $MAJOR"
fi
scratch="pgvector_check_$$"
cleanup_db() { dropdb --if-exists -h "$PGHOST_CHECK" -U postgres "$scratch" >/dev/null 2>&1 || true; }
trap 'cleanup_db; if [ -n "${workdir:-}" ]; then rm -rf "$workdir"; fi' EXIT
createdb -h "$PGHOST_CHECK" -U postgres "$scratch"
ver=$(psql -h "$PGHOST_CHECK" -U postgres -d "$scratch" -v ON_ERROR_STOP=1 -qAtc \
  "create extension if not exists vector; select extversion from pg_extension where extname='vector'")
dist=$(psql -h "$PGHOST_CHECK" -U postgres -d "$scratch" -v ON_ERROR_STOP=1 -qAtc \
  "select '[1,2,3]'::vector <-> '[4,6,3]'::vector")
cleanup_db
[ -n "$ver" ] || die "create extension vector did not report a version"
[ "$dist" = "5" ] || die "vector distance check returned '$dist', expected 5"
log "verified: extension vector $ver works on PostgreSQL $MAJOR (scratch database dropped)"
