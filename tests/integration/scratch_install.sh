# Sourced by the tests that check what `meson install` gives a user: a scratch folder
# removed on exit, ok/fail counters, and the build installed under $tmp/root.
#   source scratch_install.sh BUILD_DIR
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok - $*"; }
fail() { echo "FAIL - $*"; fails=$((fails + 1)); }
if ! meson install -C "$1" --destdir "$tmp/root" --no-rebuild --quiet >"$tmp/install.log" 2>&1; then
    cat "$tmp/install.log"; echo "FAIL - meson install"; exit 1
fi
