#!/usr/bin/env bash
# The machine's packages that `make test`, `make e2e` and `make demo` need
# besides make, git, Python and Go: installed with apt-get when this runs as
# root where apt-get exists (a fresh CI machine), otherwise named in one line
# before anything else runs.
#
# Usage: bash tests/system-packages.sh NEED...   (the package names are Debian's)
#   venv      python3 -m venv works (Debian splits it off as python3-venv)
#   openssl   the control plane's certificates (tests/controlplane/harness.py)
#   npm       configurable-http-proxy, JupyterHub's proxy (npm ci in tests/e2e)
#   chromium  the browser Playwright drives in the e2e tests (/usr/bin/chromium)
# Environment: PYTHON, the interpreter the virtualenv is made with (python3).
set -euo pipefail

python="${PYTHON:-python3}"
missing=()
for need in "$@"; do
    case "$need" in
        venv) "$python" -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv) ;;
        openssl) command -v openssl >/dev/null || missing+=(openssl) ;;
        npm) command -v npm >/dev/null || missing+=(nodejs npm) ;;
        chromium) [[ -x /usr/bin/chromium ]] || missing+=(chromium) ;;
        *) echo "system-packages.sh: unknown need '$need'" >&2; exit 2 ;;
    esac
done
((${#missing[@]})) || exit 0

if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "== installing with apt-get: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
else
    echo "missing: ${missing[*]}; install them (Debian: apt-get install ${missing[*]}) and run make again" >&2
    exit 1
fi
