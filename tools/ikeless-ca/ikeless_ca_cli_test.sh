#!/bin/bash
# The ikeless-ca binary end to end: exit codes (0 done, 1 failed, 2 usage),
# one-line errors on stderr, file modes, no private key on stdout/stderr.
set -u
BIN="$1"
WORK="$(mktemp -d "${TEST_TMPDIR:-/tmp}/ikeless-ca.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
failures=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# expect CODE ARGS...: runs the binary, checks the exit code, keeps output.
expect() {
  local want="$1"; shift
  "$BIN" "$@" >"$WORK/out" 2>"$WORK/err"
  local got=$?
  [[ "$got" == "$want" ]] || fail "ikeless-ca $* exited $got, want $want: $(cat "$WORK/err")"
  if [[ "$want" != 0 ]]; then
    [[ "$(wc -l <"$WORK/err")" == 1 ]] || fail "ikeless-ca $*: stderr is not one line"
    grep -q '^ikeless-ca: ' "$WORK/err" || fail "ikeless-ca $*: stderr lacks the prefix"
  fi
  if grep -q 'PRIVATE KEY' "$WORK/out" "$WORK/err"; then fail "ikeless-ca $* printed a key"; fi
}

mode() { stat -c %a "$1"; }

expect 0 init --dir "$WORK/ca"
[[ "$(mode "$WORK/ca/ca.key")" == 600 ]] || fail "ca.key mode $(mode "$WORK/ca/ca.key")"
expect 1 init --dir "$WORK/ca"
expect 0 issue node n1 --address 198.18.0.1 --address fd00::1 --days 3 --dir "$WORK/ca" \
  --out "$WORK/n1"
[[ "$(mode "$WORK/n1.key")" == 600 ]] || fail "n1.key mode $(mode "$WORK/n1.key")"
expect 0 show "$WORK/n1.crt"
grep -q '^kind: *node$' "$WORK/out" || fail "show: kind"
grep -q '^addresses: *198.18.0.1, fd00::1$' "$WORK/out" || fail "show: addresses"
expect 0 issue admin alice --dir "$WORK/ca" --out "$WORK/alice"
expect 0 issue server controller --dns localhost --ip 127.0.0.1 --dir "$WORK/ca" \
  --out "$WORK/controller"
expect 1 issue admin alice --dir "$WORK/ca" --out "$WORK/alice"
expect 2 issue node n2 --dir "$WORK/ca" --out "$WORK/n2"
expect 2 issue node 'bad name' --address 198.18.0.2 --dir "$WORK/ca" --out "$WORK/n2"
expect 2 frobnicate
expect 2 init
expect 1 show "$WORK/missing.crt"
expect 0 --help
grep -q '^usage: ikeless-ca' "$WORK/out" || fail "--help: usage text"

if command -v openssl >/dev/null; then
  openssl verify -CAfile "$WORK/ca/ca.crt" -purpose sslclient "$WORK/n1.crt" >/dev/null \
    || fail "openssl verify n1.crt"
  openssl verify -CAfile "$WORK/ca/ca.crt" -purpose sslserver "$WORK/controller.crt" \
    >/dev/null || fail "openssl verify controller.crt"
fi

if [[ "$failures" != 0 ]]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "PASS"
