# shellcheck shell=bash
# Shared by tests/databases/start, stop and pg-instance (sourced, not run).
#
# Throw-away PostgreSQL and MariaDB servers for the tests: each lives in a
# folder of its own under /tmp (its "runtime" folder), listens on 127.0.0.1
# only, on a port picked at random below the kernel's ephemeral range, and
# runs as an unprivileged user: PostgreSQL refuses to run as root. As root
# that is the system user `parley-test` (created on first use); as anybody
# else, the caller. The runtime folder lives under /tmp rather than in the
# build folder because the build folder may sit where that user cannot go
# (/root/...).
#
# Every wait is bounded; nothing sleeps longer than a tenth of a second.

readonly parley_db_user_default=parley-test
# The login the tests use on both servers (a superuser / all privileges).
readonly parley_db_login=parley

log() {
  echo "tests/databases: $*" >&2
}

die() {
  log "$*"
  exit 1
}

is_ci() {
  [[ "${CI:-}" == true || "${CI:-}" == 1 ]]
}

# -- binaries ------------------------------------------------------------------

# PostgreSQL's server programs: 15 (the version Debian 12 ships) unless
# PARLEY_TEST_PG_BIN names another folder; else the newest installed.
pg_bin_dir() {
  if [[ -n "${PARLEY_TEST_PG_BIN:-}" ]]; then
    echo "$PARLEY_TEST_PG_BIN"
    return
  fi
  if [[ -x /usr/lib/postgresql/15/bin/initdb ]]; then
    echo /usr/lib/postgresql/15/bin
    return
  fi
  local dir newest=""
  for dir in /usr/lib/postgresql/*/bin; do
    [[ -x "$dir/initdb" ]] || continue
    if [[ -z "$newest" ]] || [[ "$(printf '%s\n%s\n' "$newest" "$dir" | sort -V | tail -n 1)" == "$dir" ]]; then
      newest=$dir
    fi
  done
  echo "${newest:-/usr/lib/postgresql/15/bin}"
}

have_postgres() {
  local bin
  bin=$(pg_bin_dir)
  [[ -x "$bin/initdb" && -x "$bin/pg_ctl" && -x "$bin/pg_isready" ]]
}

# The first of `names` found on PATH or in /usr/sbin (MariaDB renamed its
# programs from mysql* to mariadb*; Debian 12 has both).
find_program() {
  local name
  for name in "$@"; do
    if command -v "$name" >/dev/null 2>&1; then
      command -v "$name"
      return 0
    fi
    if [[ -x "/usr/sbin/$name" ]]; then
      echo "/usr/sbin/$name"
      return 0
    fi
  done
  return 1
}

have_mariadb() {
  find_program mariadbd mysqld >/dev/null \
    && find_program mariadb-install-db mysql_install_db >/dev/null \
    && find_program mariadb-admin mysqladmin >/dev/null
}

# -- the unprivileged user -----------------------------------------------------

# Sets run_as (the command prefix that runs a program as the server user)
# and server_user; creates the system user when running as root.
# An optional argument names the user (stop and pg-instance pass the owner
# of an existing runtime folder).
setup_server_user() {
  run_as=()
  if [[ $(id -u) -ne 0 ]]; then
    server_user=$(id -un)
    return 0
  fi
  server_user=${1:-${PARLEY_TEST_DB_USER:-$parley_db_user_default}}
  # Bounded retries: two scripts starting at once may both try useradd,
  # and the loser finds /etc/passwd locked for a moment.
  for _ in {1..50}; do
    getent passwd "$server_user" >/dev/null && break
    if ! command -v useradd >/dev/null; then
      log "useradd not found: running the servers as nobody"
      server_user=nobody
      break
    fi
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin --comment "Parley test databases" \
      "$server_user" 2>/dev/null && break
    sleep 0.1
  done
  getent passwd "$server_user" >/dev/null \
    || die "cannot create the system user $server_user"
  local group
  group=$(id -gn "$server_user")
  command -v setpriv >/dev/null || die "setpriv (util-linux) is missing"
  run_as=(setpriv "--reuid=$server_user" "--regid=$group" --clear-groups --)
}

# -- folders, ports, passwords -------------------------------------------------

# A new runtime folder owned by the server user; prints its path.
make_runtime_dir() {
  local base=/tmp dir
  dir=$(mktemp -d "$base/parley-db.XXXXXXXXXX")
  chmod 700 "$dir"
  if [[ $(id -u) -eq 0 ]]; then
    chown "$server_user:$(id -gn "$server_user")" "$dir"
  fi
  echo "$dir"
}

# Random letters and digits (no URL or shell quoting needed anywhere).
random_password() {
  local pw
  pw=$(LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24 || true)
  [[ ${#pw} -eq 24 ]] || die "cannot read /dev/urandom"
  echo "$pw"
}

# True when something accepts connections on 127.0.0.1:$1.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A random port that nothing listens on now, below the kernel's ephemeral
# range so that outgoing connections never take it. The server's own bind
# is the real test: callers retry with another port when it fails.
pick_port() {
  local low=32768 high=60999 first last port
  if [[ -r /proc/sys/net/ipv4/ip_local_port_range ]]; then
    read -r low high </proc/sys/net/ipv4/ip_local_port_range
  fi
  if ((low > 12000)); then
    first=10000 last=$((low - 1))
  else
    first=$((high + 1)) last=65000
  fi
  ((first < last)) || { first=20000 last=30000; }
  for _ in {1..100}; do
    port=$((first + (RANDOM * 32768 + RANDOM) % (last - first + 1)))
    port_in_use "$port" || { echo "$port"; return 0; }
  done
  die "no free port found in $first..$last"
}

# Shows the end of a server's log on stderr.
show_log() {
  local file=$1
  [[ -f "$file" ]] || return 0
  log "last lines of $file:"
  tail -n 40 "$file" >&2 || true
}

# -- PostgreSQL ----------------------------------------------------------------

# pg_init DIR PASSWORD_FILE [crash-safe]: a new cluster in DIR/pg, superuser
# $parley_db_login with the password in PASSWORD_FILE, password (SCRAM)
# authentication over TCP. With "crash-safe", a commit returns only once it
# is in the WAL, so it survives an immediate shutdown (pg-instance kill);
# otherwise commits return before that (faster, and the shared servers are
# only ever stopped cleanly). Neither survives the machine crashing: no fsync.
pg_init() {
  local rt=$1 pwfile=$2 synchronous_commit=off bin
  [[ "${3:-}" != crash-safe ]] || synchronous_commit=on
  bin=$(pg_bin_dir)
  # Owned by the server user; removed again below.
  cp "$pwfile" "$rt/pg-password"
  [[ $(id -u) -ne 0 ]] || chown "$server_user" "$rt/pg-password"
  if ! "${run_as[@]}" env HOME="$rt" "$bin/initdb" -D "$rt/pg" \
      -U "$parley_db_login" --pwfile="$rt/pg-password" \
      --auth-host=scram-sha-256 --auth-local=scram-sha-256 \
      -E UTF8 --no-locale --no-sync >"$rt/initdb.log" 2>&1; then
    show_log "$rt/initdb.log"
    rm -f "$rt/pg-password"
    die "initdb failed"
  fi
  rm -f "$rt/pg-password"
  # Small and fast: a throw-away server needs neither much memory nor
  # durability against power loss (a clean stop still writes everything).
  cat >>"$rt/pg/postgresql.conf" <<CONF

# -- tests/databases --
listen_addresses = '127.0.0.1'
unix_socket_directories = '$rt'
max_connections = 60
shared_buffers = 16MB
work_mem = 2MB
maintenance_work_mem = 16MB
dynamic_shared_memory_type = mmap
max_wal_size = 128MB
fsync = off
synchronous_commit = $synchronous_commit
full_page_writes = off
log_min_messages = warning
log_checkpoints = off
CONF
}

# pg_start RUNTIME PORT: starts the cluster and waits until it accepts
# connections. Returns 2 when the port was taken (the caller picks another).
pg_start() {
  local rt=$1 port=$2 bin
  bin=$(pg_bin_dir)
  : >"$rt/pg.log"
  [[ $(id -u) -ne 0 ]] || chown "$server_user" "$rt/pg.log"
  if ! "${run_as[@]}" env HOME="$rt" "$bin/pg_ctl" -D "$rt/pg" -l "$rt/pg.log" \
      -o "-p $port" -w -t 60 -s start >>"$rt/pg_ctl.log" 2>&1; then
    # pg_ctl gave up: make sure nothing half-started stays behind.
    pg_stop "$rt" immediate >/dev/null 2>&1 || true
    if grep -qiE 'could not bind|address already in use' "$rt/pg.log"; then
      return 2
    fi
    show_log "$rt/pg_ctl.log"
    show_log "$rt/pg.log"
    return 1
  fi
  local i
  for i in {1..300}; do # 30 s
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 2 && return 0
    sleep 0.1
  done
  show_log "$rt/pg.log"
  return 1
}

# pg_stop RUNTIME [fast|immediate]: stops the cluster if it runs (bounded).
pg_stop() {
  local rt=$1 mode=${2:-fast} bin pid
  bin=$(pg_bin_dir)
  [[ -f "$rt/pg/postmaster.pid" ]] || return 0
  if "${run_as[@]}" env HOME="$rt" "$bin/pg_ctl" -D "$rt/pg" -m "$mode" -w -t 30 \
      -s stop >>"$rt/pg_ctl.log" 2>&1; then
    return 0
  fi
  # Still there after 30 s (or pg_ctl failed): kill it.
  pid=$(head -n 1 "$rt/pg/postmaster.pid" 2>/dev/null || true)
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    log "PostgreSQL (pid $pid) did not stop; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 50
  fi
}

# pg_run_sql RUNTIME PORT PASSWORD DB SQL: one statement through psql.
pg_run_sql() {
  local rt=$1 port=$2 pw=$3 db=$4 sql=$5 bin
  bin=$(pg_bin_dir)
  PGPASSWORD="$pw" PGCONNECT_TIMEOUT=10 "$bin/psql" -X -q -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "$port" -U "$parley_db_login" -d "$db" -c "$sql" \
    >>"$rt/psql.log" 2>&1
}

# -- MariaDB -------------------------------------------------------------------

# my_init RUNTIME PASSWORD: a new data folder in RUNTIME/mariadb and an init
# file that creates the login $parley_db_login@127.0.0.1 with all
# privileges (run by the server at each start, before it takes connections).
my_init() {
  local rt=$1 pw=$2 install
  install=$(find_program mariadb-install-db mysql_install_db)
  mkdir -p "$rt/mariadb-tmp"
  [[ $(id -u) -ne 0 ]] || chown "$server_user" "$rt/mariadb-tmp"
  if ! "${run_as[@]}" env HOME="$rt" "$install" --no-defaults \
      --datadir="$rt/mariadb" --tmpdir="$rt/mariadb-tmp" \
      --auth-root-authentication-method=socket --skip-test-db \
      --skip-name-resolve >"$rt/mariadb-install.log" 2>&1; then
    show_log "$rt/mariadb-install.log"
    die "mariadb-install-db failed"
  fi
  (
    umask 077
    cat >"$rt/mariadb-init.sql" <<SQL
CREATE USER IF NOT EXISTS '$parley_db_login'@'127.0.0.1' IDENTIFIED BY '$pw';
CREATE USER IF NOT EXISTS '$parley_db_login'@'localhost' IDENTIFIED BY '$pw';
GRANT ALL PRIVILEGES ON *.* TO '$parley_db_login'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$parley_db_login'@'localhost' WITH GRANT OPTION;
SQL
  )
  [[ $(id -u) -ne 0 ]] || chown "$server_user" "$rt/mariadb-init.sql"
}

# my_start RUNTIME PORT PASSWORD: starts mariadbd in the background and waits
# until the login works. Returns 2 when the port was taken.
my_start() {
  local rt=$1 port=$2 pw=$3 server admin client pid i
  server=$(find_program mariadbd mysqld)
  admin=$(find_program mariadb-admin mysqladmin)
  client=$(find_program mariadb mysql)
  : >"$rt/mariadb.log"
  [[ $(id -u) -ne 0 ]] || chown "$server_user" "$rt/mariadb.log"
  # A session of its own (no Ctrl-C from the terminal), every standard
  # stream on a file: CTest waits for the pipes of a test's children, so a
  # server holding them would hang the fixture.
  setsid "${run_as[@]}" env HOME="$rt" "$server" --no-defaults \
    --datadir="$rt/mariadb" --tmpdir="$rt/mariadb-tmp" \
    --port="$port" --bind-address=127.0.0.1 --socket="$rt/mariadb.sock" \
    --pid-file="$rt/mariadb.pid" --log-error="$rt/mariadb.log" \
    --init-file="$rt/mariadb-init.sql" \
    --skip-name-resolve --skip-log-bin --performance-schema=OFF \
    --character-set-server=utf8mb4 --max-connections=100 \
    --innodb-buffer-pool-size=16M --innodb-log-buffer-size=2M \
    --innodb-flush-log-at-trx-commit=2 --innodb-doublewrite=0 \
    --innodb-use-native-aio=0 --innodb-buffer-pool-dump-at-shutdown=0 \
    --innodb-buffer-pool-load-at-startup=0 --key-buffer-size=1M \
    --aria-pagecache-buffer-size=8M --query-cache-size=0 \
    --table-open-cache=400 --table-definition-cache=400 \
    </dev/null >>"$rt/mariadb.out" 2>&1 &
  pid=$!
  echo "$pid" >"$rt/mariadb.pidnum"
  for i in {1..600}; do # 60 s
    if ! kill -0 "$pid" 2>/dev/null; then
      if grep -qiE 'address already in use|bind on tcp/ip port' "$rt/mariadb.log"; then
        return 2
      fi
      show_log "$rt/mariadb.log"
      return 1
    fi
    if MYSQL_PWD="$pw" "$admin" --no-defaults --protocol=tcp -h 127.0.0.1 \
        -P "$port" -u "$parley_db_login" --connect-timeout=2 ping \
        >/dev/null 2>&1 \
      && MYSQL_PWD="$pw" "$client" --no-defaults --protocol=tcp -h 127.0.0.1 \
        -P "$port" -u "$parley_db_login" --connect-timeout=2 -N -e 'SELECT 1' \
        >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  show_log "$rt/mariadb.log"
  my_stop "$rt"
  return 1
}

# my_stop RUNTIME: SIGTERM (a clean shutdown), SIGKILL after 30 s.
my_stop() {
  local rt=$1 pid
  pid=$(cat "$rt/mariadb.pidnum" 2>/dev/null || true)
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  if kill -TERM "$pid" 2>/dev/null; then
    if ! wait_gone "$pid" 300; then
      log "MariaDB (pid $pid) did not stop; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      wait_gone "$pid" 50 || true
    fi
  fi
  rm -f "$rt/mariadb.pidnum"
}

# wait_gone PID TENTHS: true once PID has exited, false after TENTHS/10 s.
wait_gone() {
  local pid=$1 tenths=$2 i
  for ((i = 0; i < tenths; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    # A zombie counts as gone: orphans may never be reaped in a container
    # whose first process is not an init.
    is_zombie "$pid" && return 0
    sleep 0.1
  done
  ! kill -0 "$pid" 2>/dev/null || is_zombie "$pid"
}

# is_zombie PID: from /proc (procps may not be installed).
is_zombie() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null || true)
  stat=${stat##*) }
  [[ "${stat:0:1}" == Z ]]
}

# remove_runtime_dir DIR: only folders this library made.
remove_runtime_dir() {
  local dir=$1
  [[ -n "$dir" && -d "$dir" ]] || return 0
  case "$dir" in
    /tmp/parley-db.*) rm -rf "$dir" ;;
    *) log "not removing $dir: not a runtime folder of tests/databases" ;;
  esac
}
