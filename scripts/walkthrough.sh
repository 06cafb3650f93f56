#!/usr/bin/env bash
# Runs the README's curl walk-through exactly as written, so the README cannot drift from the server.
# Usage: scripts/walkthrough.sh [base-url]   (default http://localhost:5000; the server on a fresh database)
#
# It takes every ```bash block between <!-- walkthrough:start --> and <!-- walkthrough:end --> in
# README.md and runs them in order in one shell with `set -euo pipefail` (variables carry from one
# block to the next, as in a terminal where they are pasted one by one), in a temporary directory (the
# cookie jars). Each block follows a comment that says what it must give:
#
#   <!-- walkthrough: expect 204 401; output has "reason":"revoked" -->
#
# `expect`: the HTTP status of each curl call of the block, in order (curl is wrapped in a function
# that also writes the status to a file; snippets must not use -w themselves). `output has`: text the
# block's standard output must contain.
set -euo pipefail
export BASE=${1:-http://localhost:5000}
__wt_readme="$(cd "$(dirname "$0")/.." && pwd)/README.md"
__wt_dir=$(mktemp -d)
__wt_i=0
# On any failure (a snippet's own under set -e too): what the block printed, and which block it was.
trap 'rc=$?; if [ "$rc" -ne 0 ] && [ "$__wt_i" -gt 0 ]; then echo "--- output"; cat "$__wt_out" 2>/dev/null; echo "walk-through FAILED in block $__wt_i" >&2; fi; rm -rf "$__wt_dir"' EXIT

# One file per block (block-N.sh) and its expectation (block-N.spec); fails when a block has no comment.
node - "$__wt_readme" "$__wt_dir" <<'EOF'
const fs = require('fs');
const [readme, dir] = process.argv.slice(2);
const text = fs.readFileSync(readme, 'utf8');
const section = /<!-- walkthrough:start -->\n([\s\S]*?)<!-- walkthrough:end -->/.exec(text);
if (!section) throw new Error('README.md has no <!-- walkthrough:start --> ... <!-- walkthrough:end --> section');
let spec = null, code = null, n = 0;
for (const line of section[1].split('\n')) {
  if (code !== null) {
    if (line === '```') {
      if (spec === null) throw new Error(`bash block ${n + 1} has no <!-- walkthrough: expect ... --> comment before it`);
      n++;
      fs.writeFileSync(`${dir}/block-${n}.sh`, code.join('\n') + '\n');
      fs.writeFileSync(`${dir}/block-${n}.spec`, spec);
      spec = null; code = null;
    } else code.push(line);
    continue;
  }
  const comment = /^<!-- walkthrough: (.*) -->$/.exec(line);
  if (comment) spec = comment[1];
  else if (line === '```bash') code = [];
}
if (n === 0) throw new Error('the walk-through section has no bash block');
EOF

__wt_statuses="$__wt_dir/statuses"
__wt_out="$__wt_dir/out"
# curl as the snippets call it, plus its status on stderr, which goes to $__wt_statuses.
curl() { command curl -w '%{stderr}%{http_code}\n' "$@" 2>>"$__wt_statuses"; }
# An expectation's field: `field expect "$__wt_spec"` -> "204 401".
field() { sed -n "s/.*\\b$1 \\([^;]*\\).*/\\1/p" <<<"$2" | sed 's/ *$//'; }
fail() { echo "block $__wt_i: $*" >&2; exit 1; }

cd "$__wt_dir"
while [ -f "$__wt_dir/block-$((__wt_i + 1)).sh" ]; do
  __wt_i=$((__wt_i + 1))
  __wt_spec=$(cat "$__wt_dir/block-$__wt_i.spec")
  echo "== block $__wt_i ($__wt_spec)"
  sed 's/^/   $ /' "$__wt_dir/block-$__wt_i.sh"
  : >"$__wt_statuses"
  # shellcheck disable=SC1090
  source "$__wt_dir/block-$__wt_i.sh" >"$__wt_out"
  sed 's/^/   /' "$__wt_out"; echo
  __wt_got=$(tr '\n' ' ' <"$__wt_statuses" | sed 's/ *$//')
  __wt_want=$(field expect "$__wt_spec")
  [ -n "$__wt_want" ] || fail "its comment has no 'expect'"
  [ "$__wt_got" = "$__wt_want" ] || fail "statuses $__wt_got, expected $__wt_want$([[ $__wt_got == *409* ]] && echo ' (409: run it on a fresh database)')"
  __wt_has=$(field 'output has' "$__wt_spec")
  if [ -n "$__wt_has" ] && ! grep -qF -- "$__wt_has" "$__wt_out"; then fail "the output does not contain $__wt_has"; fi
done
echo "walk-through ok ($__wt_i blocks)"
