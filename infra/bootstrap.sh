#!/bin/sh
# What `npm start` and `npm test` run first: install what is missing (idempotent, quick the second
# time), then hand over to the stack on Bun. Bun itself comes from the `bun` npm package.
set -eu
cd "$(dirname "$0")/.."

say() { printf '[bootstrap] %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=
apt_install() {
  [ -n "$apt_updated" ] || { say "apt-get update"; as_root apt-get update -qq; apt_updated=1; }
  say "installing $* from Debian's packages"
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

# npm packages, again only when the lockfile or the patches changed since the last install.
want=$(cat package-lock.json patches/*.patch | sha256sum | cut -c1-16)
if [ ! -x node_modules/.bin/bun ] || [ "$(cat node_modules/.install-stamp 2>/dev/null || true)" != "$want" ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > node_modules/.install-stamp
fi

command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || apt_install haproxy
command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
command -v mvn >/dev/null 2>&1 || apt_install maven

PATH="$PATH:/usr/sbin"
export PATH
exec node_modules/.bin/bun infra/stack/main.ts "$@"
