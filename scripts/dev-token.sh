#!/usr/bin/env bash
# Mints a local HS256 token for USER with the jwt-secret of runtime-config/local/secrets.json,
# issued by JWT_ISSUER (default todo-platform) for JWT_AUDIENCE (default todo-api), the values the
# components check.
#   scripts/dev-token.sh USER [LIFETIME_SECS]      (lifetime at most 3600, the API's limit)
# Use: curl -H "Authorization: Bearer $(scripts/dev-token.sh alice)" http://127.0.0.1:8000/api/tasks
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
(($# >= 1)) || { echo "usage: scripts/dev-token.sh USER [LIFETIME_SECS]" >&2; exit 2; }
PY="$ROOT/.tools/venv/bin/python"
[ -x "$PY" ] || PY=python3
exec "$PY" - "$ROOT/runtime-config/local/secrets.json" "$1" "${2:-3600}" <<'PYEOF'
import base64, hashlib, hmac, json, os, sys, time
secrets_file, user, lifetime = sys.argv[1], sys.argv[2], int(sys.argv[3])
iss = os.environ.get("JWT_ISSUER") or "todo-platform"
aud = os.environ.get("JWT_AUDIENCE") or "todo-api"
secret = json.load(open(secrets_file))["jwt-secret"].encode()
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
now = int(time.time())
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
body = b64(json.dumps({"sub": user, "iat": now, "exp": now + lifetime, "iss": iss, "aud": aud}, separators=(",", ":")).encode())
sig = b64(hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest())
print(f"{head}.{body}.{sig}")
PYEOF
