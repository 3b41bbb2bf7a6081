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
