# Shared settings of the services the tests and the demo use. Sourced.
: "${FNRT_SERVICES_DIR:=/var/tmp/fnrt-services}"
: "${FNRT_REGISTRY_PORT:=5000}"         # plain registry
: "${FNRT_AUTH_REGISTRY_PORT:=5001}"    # htpasswd Basic auth
: "${FNRT_TOKEN_REGISTRY_PORT:=5002}"   # Bearer tokens from the token server
: "${FNRT_TOKEN_SERVER_PORT:=5003}"
: "${FNRT_REGISTRY_USER:=fnrt}"
: "${FNRT_REGISTRY_SECRET:=fnrt-secret}"
: "${DOCKER_SOCKET:=/var/run/docker.sock}"
export FNRT_SERVICES_DIR FNRT_REGISTRY_PORT FNRT_AUTH_REGISTRY_PORT FNRT_TOKEN_REGISTRY_PORT \
    FNRT_TOKEN_SERVER_PORT FNRT_REGISTRY_USER FNRT_REGISTRY_SECRET DOCKER_SOCKET

# Debian packages the project needs at run time, build time and for its tests.
FNRT_PACKAGES="docker.io docker-registry skopeo umoci apache2-utils libcurl4-openssl-dev libarchive-dev libzstd-dev libsqlite3-dev zstd runc crun openssl curl python3 bc"

log() { printf 'services: %s\n' "$*" >&2; }

# Waits up to $2 seconds for command $1 to succeed.
wait_for() {
    local tries=$(( $2 * 10 ))
    while ! eval "$1" >/dev/null 2>&1; do
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] || return 1
        sleep 0.1
    done
}

# True when a process with this pid file is alive.
running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
