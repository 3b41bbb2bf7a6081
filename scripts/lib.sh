# Shared by scripts/demo and scripts/test: install what they need.

ensure_cargo() {
    if ! command -v cargo >/dev/null 2>&1; then
        echo "error: cargo is not installed; install Rust with rustup first (https://rustup.rs)" >&2
        exit 1
    fi
}

ensure_target() {
    if ! rustup target list --installed | grep -qx "$1"; then
        echo "==> rustup target add $1"
        rustup target add "$1"
    fi
}

step() {
    echo
    echo "==> $*"
}

# Installs PostgreSQL from Debian's packages if needed and starts a
# throwaway server on 127.0.0.1:$1 (data in a temporary directory, trust
# auth on loopback only). Sets SPLEIS_TEST_DATABASE_URL; stops the server
# when the calling script exits.
start_test_postgres() {
    local port=$1
    if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
        step "apt-get install postgresql"
        local sudo=""
        [ "$(id -u)" = 0 ] || sudo=sudo
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
    fi
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/spleis-pg.XXXXXX")
    local as=()
    if [ "$(id -u)" = 0 ]; then
        # PostgreSQL refuses to run as root: run it as the postgres user.
        chown postgres "$PG_DIR"
        as=(runuser -u postgres --)
    fi
    step "starting a test PostgreSQL on 127.0.0.1:$port"
    "${as[@]}" "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust >"$PG_DIR/initdb.log"
    "${as[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
        -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
    PG_STOP=("${as[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -m immediate stop)
    trap 'stop_test_postgres' EXIT
    export SPLEIS_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
    export SPLEIS_REQUIRE_POSTGRES=1
}

stop_test_postgres() {
    "${PG_STOP[@]}" >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
}

# Installs a Debian package if the command it provides is missing.
ensure_command() { # command package
    if ! command -v "$1" >/dev/null 2>&1; then
        step "apt-get install $2"
        local sudo=""
        [ "$(id -u)" = 0 ] || sudo=sudo
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$2" >/dev/null
    fi
}
