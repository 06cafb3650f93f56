#!/usr/bin/env bash
# The README's curl walk-through, as a script that fails on the first unexpected answer.
# Usage: scripts/walkthrough.sh [base-url]   (default http://localhost:5000)
set -euo pipefail
BASE=${1:-http://localhost:5000}
JAR=$(mktemp); JAR2=$(mktemp); OUT=$(mktemp)
trap 'rm -f "$JAR" "$JAR2" "$OUT"' EXIT
EMAIL="walkthrough-$(date +%s)-$$@example.com"

# step NAME EXPECTED-STATUS curl-args...  — prints the body, fails unless the status matches
step() {
  local name=$1 expected=$2; shift 2
  local status
  status=$(curl -sS -o "$OUT" -w '%{http_code}' "$@")
  printf '%-34s %s  %s\n' "$name" "$status" "$(head -c 200 "$OUT")"
  if [ "$status" != "$expected" ]; then echo "expected $expected" >&2; exit 1; fi
}

step "signup"                 201 -X POST "$BASE/signup" -H 'Content-Type: application/json' \
  -d "{\"name\":\"Ada Lovelace\",\"phone\":\"+44 20 7946 0958\",\"email\":\"$EMAIL\",\"password\":\"correct horse battery\"}"
step "login (laptop)"         200 -c "$JAR" -X POST "$BASE/login" -H 'Content-Type: application/json' -A 'Laptop' \
  -d "{\"email\":\"$EMAIL\",\"password\":\"correct horse battery\"}"
grep -q 'session_token' "$JAR" || { echo "no session cookie" >&2; exit 1; }
step "session_status"         200 -b "$JAR" "$BASE/session_status"
step "login (phone)"          200 -c "$JAR2" -X POST "$BASE/login" -H 'Content-Type: application/json' -A 'Phone' \
  -d "{\"email\":\"$EMAIL\",\"password\":\"correct horse battery\"}"
PHONE_ID=$(node -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).session.id))' "$OUT")
step "active_sessions"        200 -b "$JAR" "$BASE/active_sessions"
grep -q '"current":true' "$OUT" || { echo "current session not marked" >&2; exit 1; }
step "end the phone session"  204 -b "$JAR" -X DELETE "$BASE/active_sessions/$PHONE_ID"
step "phone is signed out"    401 -b "$JAR2" "$BASE/session_status"
grep -q '"reason":"revoked"' "$OUT" || { echo "expected reason revoked" >&2; exit 1; }
step "userpage"               200 -b "$JAR" "$BASE/userpage"
step "global_chat"            201 -b "$JAR" -X POST "$BASE/global_chat" -H 'Content-Type: application/json' -d '{"message":"Hello, everyone!"}'
step "logout"                 200 -b "$JAR" -c "$JAR" -X POST "$BASE/logout"
step "session_status after"   401 -b "$JAR" "$BASE/session_status"
step "health"                 200 "$BASE/health"
# The browser pages, and a plain HTML form post as a browser sends it (303 to the dashboard).
step "signup_page"            200 "$BASE/signup_page"
step "login_page"             200 "$BASE/login_page"
step "form login (browser)"   303 -X POST "$BASE/login" -H 'Accept: text/html' \
  --data-urlencode "email=$EMAIL" --data-urlencode 'password=correct horse battery'
echo "walk-through ok"
