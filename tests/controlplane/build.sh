#!/usr/bin/env bash
# Build the real Kubernetes control plane used by the integration and
# end-to-end tests -- kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl and etcd -- from the Go modules pinned in tests/controlplane/go.mod
# and tests/controlplane/etcd/go.mod.
#
# Usage: bash tests/controlplane/build.sh [--force] [--print-dir]
#
#   --force      rebuild every binary even if it is already in the cache
#   --print-dir  only print the output directory and exit
#
# Without --force, only the binaries missing from the cache are built (a cache
# from before kube-scheduler, kube-controller-manager and kubectl were added
# gets just those); the directory is then replaced as a whole, atomically.
#
# Environment:
#   PROFILESPAWNER_CACHE  cache root (default: $HOME/.cache/profilespawner)
#   GO                    go binary to use (default: `go` on PATH, else /usr/local/go/bin/go)
#   GOFLAGS, GOPROXY, ... respected as usual by the go command
#   BUILD_PARALLELISM     value for `go build -p` (default: 2)
#   KUBE_GIT_COMMIT       optional git commit recorded in the Kubernetes binaries' version
#   ETCD_GIT_SHA          optional git sha recorded in `etcd --version`
#
# Output: <cache>/controlplane/<k8s-version>-etcd<etcd-version>/
#         {kube-apiserver,kube-controller-manager,kube-scheduler,kubectl,etcd}
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

force=0
print_dir=0
for arg in "$@"; do
    case "$arg" in
        --force) force=1 ;;
        --print-dir) print_dir=1 ;;
        -h|--help) sed -n '2,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "build.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

# Single source of truth for the versions (also read by harness.py).
# shellcheck source=versions.env
source "$here/versions.env"
: "${KUBERNETES_VERSION:?versions.env must set KUBERNETES_VERSION}"
: "${ETCD_VERSION:?versions.env must set ETCD_VERSION}"

cache_root="${PROFILESPAWNER_CACHE:-$HOME/.cache/profilespawner}"
out_dir="$cache_root/controlplane/${KUBERNETES_VERSION}-etcd${ETCD_VERSION}"

if [[ $print_dir == 1 ]]; then
    echo "$out_dir"
    exit 0
fi

log() { printf '[controlplane build %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# The Kubernetes binaries, each built from k8s.io/kubernetes/cmd/<name>.
k8s_binaries=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
all_binaries=("${k8s_binaries[@]}" etcd)

missing=()
for binary in "${all_binaries[@]}"; do
    if [[ $force == 1 || ! -x "$out_dir/$binary" ]]; then
        missing+=("$binary")
    fi
done
if (( ${#missing[@]} == 0 )); then
    log "up to date: ${all_binaries[*]} (Kubernetes $KUBERNETES_VERSION, etcd $ETCD_VERSION)"
    echo "$out_dir"
    exit 0
fi
if [[ $force == 0 && -d "$out_dir" ]]; then
    log "not in the cache yet: ${missing[*]}"
fi

# --- locate Go -------------------------------------------------------------
go_bin="${GO:-}"
if [[ -z $go_bin ]]; then
    if command -v go >/dev/null 2>&1; then
        go_bin="$(command -v go)"
    elif [[ -x /usr/local/go/bin/go ]]; then
        go_bin=/usr/local/go/bin/go
    fi
fi
if [[ -z $go_bin ]] || ! "$go_bin" version >/dev/null 2>&1; then
    echo "build.sh: error: the Go toolchain was not found (need Go >= 1.26)." >&2
    echo "  Install Go (https://go.dev/dl/) and put it on PATH, or set GO=/path/to/go." >&2
    exit 1
fi
go_version="$("$go_bin" env GOVERSION)"   # e.g. go1.26.8
go_mm="${go_version#go}"
go_major="${go_mm%%.*}"
go_minor="${go_mm#*.}"; go_minor="${go_minor%%.*}"; go_minor="${go_minor%%[!0-9]*}"
if (( go_major < 1 || (go_major == 1 && go_minor < 26) )); then
    echo "build.sh: error: $go_bin is $go_version; kube-apiserver $KUBERNETES_VERSION needs Go >= 1.26." >&2
    exit 1
fi
log "using $go_bin ($go_version), GOFLAGS='$("$go_bin" env GOFLAGS)'"

# --- check that go.mod agrees with versions.env ----------------------------
mod_version() { # <module dir> <module path>
    (cd "$1" && "$go_bin" list -m -f '{{.Version}}' "$2")
}
k8s_mod="$(mod_version "$here" k8s.io/kubernetes)"
etcd_mod="$(mod_version "$here/etcd" go.etcd.io/etcd/server/v3)"
if [[ $k8s_mod != "$KUBERNETES_VERSION" || $etcd_mod != "$ETCD_VERSION" ]]; then
    echo "build.sh: error: versions.env (k8s $KUBERNETES_VERSION, etcd $ETCD_VERSION) does not match" >&2
    echo "  go.mod (k8s.io/kubernetes $k8s_mod) / etcd/go.mod (go.etcd.io/etcd/server/v3 $etcd_mod)." >&2
    exit 1
fi

# --- version stamping (what hack/lib/version.sh does upstream) -------------
ver="${KUBERNETES_VERSION#v}"
k8s_major="${ver%%.*}"
k8s_minor="${ver#*.}"; k8s_minor="${k8s_minor%%.*}"
# Reproducible build date: the commit time the module proxy records for the tag.
build_date="$(cd "$here" && "$go_bin" list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)"
k8s_ldflags="-s -w"
add_ldflag() {
    k8s_ldflags+=" -X 'k8s.io/component-base/version.$1=$2' -X 'k8s.io/client-go/pkg/version.$1=$2'"
}
add_ldflag gitVersion "$KUBERNETES_VERSION"
add_ldflag gitMajor "$k8s_major"
add_ldflag gitMinor "$k8s_minor"
add_ldflag gitCommit "${KUBE_GIT_COMMIT:-}"
add_ldflag gitTreeState clean
add_ldflag buildDate "$build_date"
etcd_ldflags="-s -w"
if [[ -n ${ETCD_GIT_SHA:-} ]]; then
    etcd_ldflags+=" -X 'go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_GIT_SHA'"
fi

# --- build into a temp dir next to the output, then move atomically -------
mkdir -p "$(dirname "$out_dir")"
tmp_dir="$(mktemp -d "$(dirname "$out_dir")/.build.XXXXXX")"
trap 'rm -rf "$tmp_dir"' EXIT
chmod 755 "$tmp_dir"   # mktemp -d creates it 0700

export CGO_ENABLED=0
parallel="${BUILD_PARALLELISM:-2}"
start=$SECONDS

wanted() { # <binary>: is it one to build?
    local b
    for b in "${missing[@]}"; do [[ $b == "$1" ]] && return 0; done
    return 1
}

for binary in "${all_binaries[@]}"; do
    if ! wanted "$binary"; then
        # Kept from the cache: a hard link (or a copy) in the new directory.
        ln "$out_dir/$binary" "$tmp_dir/$binary" 2>/dev/null || cp -p "$out_dir/$binary" "$tmp_dir/$binary"
        log "kept $binary from the cache"
        continue
    fi
    began=$SECONDS
    if [[ $binary == etcd ]]; then
        log "building etcd $ETCD_VERSION ..."
        (cd "$here/etcd" && "$go_bin" build -trimpath -p "$parallel" -ldflags "$etcd_ldflags" \
            -o "$tmp_dir/etcd" go.etcd.io/etcd/server/v3)
    else
        log "building $binary $KUBERNETES_VERSION (go build -p $parallel; modules are downloaded as needed; the first one built on empty Go caches takes a while) ..."
        (cd "$here" && "$go_bin" build -trimpath -p "$parallel" -ldflags "$k8s_ldflags" \
            -o "$tmp_dir/$binary" "k8s.io/kubernetes/cmd/$binary")
    fi
    log "$binary built in $((SECONDS - began))s ($((SECONDS - start))s so far)"
done

"$tmp_dir/kube-apiserver" --version
"$tmp_dir/kube-controller-manager" --version
"$tmp_dir/kube-scheduler" --version
"$tmp_dir/kubectl" version --client | sed -n 1p
"$tmp_dir/etcd" --version | sed -n 1p

# Atomic publish: rename the whole directory into place. If a previous
# (partial or --force) directory exists, move it aside first.
if [[ -e "$out_dir" ]]; then
    old="$tmp_dir.old"
    mv "$out_dir" "$old"
    mv "$tmp_dir" "$out_dir"
    rm -rf "$old"
else
    mv "$tmp_dir" "$out_dir"
fi
trap - EXIT

log "done in $((SECONDS - start))s"
echo "$out_dir"
