#!/usr/bin/env bash
# Builds the Dockerfile with podman and runs the image's own command without a container
# runtime: the image's filesystem under chroot, as the image's user, with the image's
# environment and working folder. Checks that the image holds no compiler and no ICU of the
# system's, that `codelists seed` publishes the seed and that the image's command serves
# /health/ready (polled with the image's own HEALTHCHECK command). Prints the image's size.
#
#   deploy/check-image.sh              # needs python:3.11-slim in podman's local images
#   deploy/check-image.sh --stand-in   # first makes one with debootstrap if there is none
#
# Run as root (podman's storage, chroot, a network namespace of its own so the image's
# port 8000 does not meet anything else on the machine). Needs podman, util-linux's unshare,
# iproute2's ip; --stand-in also needs debootstrap and a Debian mirror that apt uses.
set -euo pipefail
cd "$(dirname "$0")/.."

# The second part, in its own network namespace: the image's command and health check.
if [[ ${1:-} == --run-in ]]; then
    root=$2 tag=$3
    ip link set lo up
    inspect() { podman image inspect --format "$1" "$tag" | sed '/^$/d'; }
    user=$(inspect '{{.Config.User}}')
    workdir=$(inspect '{{.Config.WorkingDir}}')
    mapfile -t environment < <(inspect '{{range .Config.Env}}{{println .}}{{end}}')
    mapfile -t command < <(inspect '{{range .Config.Cmd}}{{println .}}{{end}}')
    # Docker's form of `HEALTHCHECK CMD ...`: CMD-SHELL, then the line for /bin/sh.
    mapfile -t healthcheck < <(inspect '{{range .Config.Healthcheck.Test}}{{println .}}{{end}}')
    [[ ${healthcheck[0]:-} == CMD-SHELL ]] || { echo "no HEALTHCHECK CMD in $tag" >&2; exit 1; }

    # As the image's user, in its working folder, with its environment and nothing of ours.
    as_image() {
        chroot --userspec="$user:$user" "$root" /usr/bin/env -i "${environment[@]}" \
            HOME="/home/$user" /bin/sh -c 'cd "$0" && exec "$@"' "$workdir" "$@"
    }
    echo "codelists seed, as $user"
    as_image codelists seed | tail -n1
    echo "${command[*]}, as $user, until its health check passes"
    as_image "${command[@]}" >"$root/tmp/serve.log" 2>&1 &
    server=$!
    for _ in $(seq 1 600); do
        if as_image /bin/sh -c "${healthcheck[1]}" >/dev/null 2>&1; then
            echo "ready: its HEALTHCHECK passed (/health/ready answered)"
            kill -TERM "$server"
            wait "$server" || true
            exit 0
        fi
        kill -0 "$server" 2>/dev/null || { cat "$root/tmp/serve.log" >&2; exit 1; }
        sleep 0.2
    done
    echo "not ready after 120 s" >&2
    cat "$root/tmp/serve.log" >&2
    kill -TERM "$server"
    exit 1
fi

base=python:3.11-slim
tag=${CHECK_IMAGE_TAG:-localhost/codelists:check}
started=$(date +%s)

# Debian bookworm with python3, python3-dev, python3-pip and this machine's CA bundle, in
# place of the registry's python:3.11-slim where that cannot be pulled. Its python3 is
# /usr/bin/python3 (not /usr/local/bin) and its pip refuses system-wide installs (PEP 668):
# the Dockerfile must build on both.
make_stand_in() {
    local rootfs mirror
    rootfs=$(mktemp -d)
    mirror=$(grep -rhoE '^(URIs:|deb) +https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | grep -v security | head -n1 | awk '{print $2}')
    debootstrap --variant=minbase --include=python3,python3-dev,python3-pip,ca-certificates \
        bookworm "$rootfs" "${mirror:-http://deb.debian.org/debian}" >/dev/null
    cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
    chroot "$rootfs" apt-get clean
    rm -rf "$rootfs/var/lib/apt/lists/"*
    tar -C "$rootfs" -c . | podman import - "$base" >/dev/null
    rm -rf "$rootfs"
}

if ! podman image exists "$base"; then
    if [[ ${1:-} == --stand-in ]]; then
        echo "making a stand-in for $base with debootstrap"
        make_stand_in
    else
        echo "no $base image here: pull it, or run with --stand-in" >&2
        exit 2
    fi
fi

echo "building $tag"
log=$(mktemp)
podman build --isolation=chroot --format docker -t "$tag" . >"$log" 2>&1 || {
    cat "$log" >&2
    exit 1
}
rm -f "$log"
built=$(date +%s)

container=$(podman create "$tag")
root=$(podman mount "$container")
cleanup() {
    umount "$root/proc" "$root/dev" 2>/dev/null || true
    podman umount "$container" >/dev/null 2>&1 || true
    podman rm "$container" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# No compiler and no system ICU: PyICU's ICU is the one inside its wheel, in the venv.
forbidden=$(cd "$root" && find usr/bin usr/include usr/lib \
    \( -path 'usr/bin/*' \( -name 'gcc*' -o -name 'g++*' -o -name 'cc' -o -name 'c++' \
    -o -name '*-linux-gnu-gcc*' -o -name '*-linux-gnu-g++*' \) \) \
    -o -path 'usr/include/unicode' -o \( -path 'usr/lib/*' -name 'libicu*' \) 2>/dev/null || true)
if [[ -n $forbidden ]]; then
    echo "the image holds a compiler or ICU of the system's:" $forbidden >&2
    exit 1
fi

mount --bind /proc "$root/proc"
mount --bind /dev "$root/dev"
# The run in a network namespace of its own: the image's port 8000 is its alone, as in a
# container, whatever else listens on this machine.
unshare --net "$0" --run-in "$root" "$tag"

size=$(podman image inspect --format '{{.Size}}' "$tag")
echo "image $tag: $((size / 1000000)) MB; built in $((built - started)) s," \
    "checked in $(($(date +%s) - built)) s"
