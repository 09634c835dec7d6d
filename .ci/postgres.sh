# PostgreSQL for the monitoring tests (monitoring.md section 12), sourced by .ci/run (which runs as root).
# pg_start installs Debian's packages, starts two clusters with Debian's tools as the postgres user, creates the
# role servegraph and the database servegraph_test in each, and exports:
#   SERVEGRAPH_TEST_PG_URL            the main cluster's database (tests drop and recreate their objects there)
#   SERVEGRAPH_TEST_PG_OUTAGE_URL     a second cluster's database, that one test stops and starts again
#   SERVEGRAPH_TEST_PG_OUTAGE_CLUSTER that cluster as "<version> <name>", for pg_ctlcluster
# pg_stop stops the clusters pg_start started. Both print nothing on stdout (CI reads its last line).

PG_STARTED=()

# pg_cluster_port VERSION NAME: the port of an existing cluster, empty when there is none
pg_cluster_port() {
  pg_lsclusters --no-header 2>/dev/null | awk -v v="$1" -v n="$2" '$1 == v && $2 == n { print $3 }'
}

# pg_cluster_up VERSION NAME: create the cluster if missing, start it if down, wait until it answers on loopback
pg_cluster_up() {
  local version=$1 name=$2 port
  if [ -z "$(pg_cluster_port "$version" "$name")" ]; then
    pg_createcluster "$version" "$name" >&2 || return 1
  fi
  port=$(pg_cluster_port "$version" "$name")
  if ! pg_lsclusters --no-header | awk -v v="$version" -v n="$name" '$1 == v && $2 == n { print $4 }' |
    grep -q online; then
    pg_ctlcluster "$version" "$name" start >&2 || return 1
    PG_STARTED+=("$version $name")
  fi
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p "$port" && return 0
    sleep 1
  done
  echo "ci: PostgreSQL $version/$name does not answer on 127.0.0.1:$port" >&2
  return 1
}

# pg_test_database PORT PASSWORD: the role servegraph (with that password) and a new database servegraph_test
pg_test_database() {
  runuser -u postgres -- psql -q -X -v ON_ERROR_STOP=1 -p "$1" -d postgres >&2 <<SQL || return 1
SELECT 'CREATE ROLE servegraph LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'servegraph')\gexec
ALTER ROLE servegraph LOGIN PASSWORD '$2';
DROP DATABASE IF EXISTS servegraph_test WITH (FORCE);
CREATE DATABASE servegraph_test OWNER servegraph;
SQL
}

pg_start() {
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq postgresql; } >/dev/null 2>&1 || {
    echo "ci: apt-get install postgresql failed" >&2
    return 1
  }
  local version password main_port outage_port
  version=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
  password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
  pg_cluster_up "$version" main || return 1
  pg_cluster_up "$version" sgoutage || return 1
  main_port=$(pg_cluster_port "$version" main)
  outage_port=$(pg_cluster_port "$version" sgoutage)
  pg_test_database "$main_port" "$password" || return 1
  pg_test_database "$outage_port" "$password" || return 1
  export SERVEGRAPH_TEST_PG_URL="postgres://servegraph:$password@127.0.0.1:$main_port/servegraph_test"
  export SERVEGRAPH_TEST_PG_OUTAGE_URL="postgres://servegraph:$password@127.0.0.1:$outage_port/servegraph_test"
  export SERVEGRAPH_TEST_PG_OUTAGE_CLUSTER="$version sgoutage"
}

pg_stop() {
  local c
  for c in "${PG_STARTED[@]}"; do
    # shellcheck disable=SC2086 # "version name"
    pg_ctlcluster $c stop -m fast >&2 || true
  done
  # the outage test may have left its cluster running after a failure
  if [ -n "${SERVEGRAPH_TEST_PG_OUTAGE_CLUSTER:-}" ]; then
    # shellcheck disable=SC2086
    pg_ctlcluster $SERVEGRAPH_TEST_PG_OUTAGE_CLUSTER stop -m fast >/dev/null 2>&1 || true
  fi
  PG_STARTED=()
}
