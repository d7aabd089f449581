#!/usr/bin/env bash
# Builds the serving gateway, nginx, from its release source into PREFIX (default /opt/model-deploy/nginx).
# The source is pinned: this version, checked by the SHA-256 of nginx.org's release file before anything of it
# runs; a mismatch stops the build. It runs in a build stage FROM the engine image itself (see the Dockerfiles),
# so the binary links against the C library it will run on; PCRE2 (for the configuration's patterns) is linked
# in statically, so the engine image needs no nginx package of its own. Only the modules the configuration
# uses beyond the core are kept.
#
# MODEL_DEPLOY_NGINX_SOURCE: a local copy of the release file (no download); it is checked all the same.
set -euo pipefail

NGINX_VERSION=1.26.3
NGINX_SHA256=69ee2b237744036e61d24b836668aad3040dda461fe6f570f1787eab570c75aa
PREFIX="${1:-/opt/model-deploy/nginx}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if command -v apt-get > /dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc make libc6-dev libpcre2-dev curl ca-certificates > /dev/null
elif command -v dnf > /dev/null 2>&1; then
  dnf install -y -q gcc make glibc-devel pcre2-devel curl ca-certificates
elif command -v yum > /dev/null 2>&1; then
  yum install -y -q gcc make glibc-devel pcre2-devel curl ca-certificates
else
  echo "build-nginx.sh: no apt-get, dnf or yum in this image: build the gateway stage FROM an image that has one" >&2
  exit 69
fi

if [ -n "${MODEL_DEPLOY_NGINX_SOURCE:-}" ]; then
  cp "$MODEL_DEPLOY_NGINX_SOURCE" "$work/nginx.tar.gz"
else
  curl -fsSL --retry 3 -o "$work/nginx.tar.gz" "https://nginx.org/download/nginx-$NGINX_VERSION.tar.gz"
fi
if ! echo "$NGINX_SHA256  $work/nginx.tar.gz" | sha256sum -c --quiet -; then
  echo "build-nginx.sh: nginx-$NGINX_VERSION.tar.gz does not have the pinned SHA-256 $NGINX_SHA256: refusing it" >&2
  exit 1
fi
tar -xzf "$work/nginx.tar.gz" -C "$work"

# Static PCRE2 where the distribution ships its archive: a folder holding only the archive comes first on
# the linker's path, so -lpcre2-8 finds it before the shared library.
mkdir -p "$work/static"
pcre_a="$(gcc -print-file-name=libpcre2-8.a)"
if [ -f "$pcre_a" ]; then cp "$pcre_a" "$work/static/"; fi

cd "$work/nginx-$NGINX_VERSION"
./configure --prefix="$PREFIX" \
  --with-pcre --with-pcre-jit --with-threads \
  --without-http_gzip_module --without-http_ssi_module --without-http_userid_module \
  --without-http_auth_basic_module --without-http_mirror_module --without-http_autoindex_module \
  --without-http_geo_module --without-http_split_clients_module --without-http_referer_module \
  --without-http_memcached_module --without-http_limit_req_module --without-http_empty_gif_module \
  --without-http_browser_module --without-http_charset_module --without-http_grpc_module \
  --without-mail_pop3_module --without-mail_imap_module --without-mail_smtp_module \
  --with-cc-opt='-O2 -fstack-protector-strong -D_FORTIFY_SOURCE=2' \
  --with-ld-opt="-L$work/static -Wl,-z,relro -Wl,-z,now" > /dev/null
make -j"$(nproc)" > /dev/null
make install > /dev/null
"$PREFIX/sbin/nginx" -V
