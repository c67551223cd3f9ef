#!/usr/bin/env bash
# Installs what hotpatch needs to build and test on Debian 12, and nothing
# when everything is already present. Safe to run repeatedly.
set -euo pipefail

packages=(
	clang-19 llvm-19-dev libclang-rt-19-dev lld-19
	gcc-12-plugin-dev g++
	libelf-dev libdwarf-dev libcmocka-dev libsodium-dev
	pkg-config cmake make git clang-format-14 patch bc binutils python3
	# tests/realworld: building memcached and nginx, their clients and load
	autoconf automake libevent-dev libpcre2-dev zlib1g-dev
	libmemcached-tools wrk netcat-openbsd curl
	# tests/runtime: counting the CLI's connections
	strace
)

missing=()
for pkg in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$pkg")
	fi
done

if ((${#missing[@]} == 0)); then
	exit 0
fi

echo "deps: installing ${missing[*]}" >&2
sudo_cmd=()
if ((EUID != 0)); then
	if command -v sudo >/dev/null; then
		sudo_cmd=(sudo)
	else
		echo "deps: need root (or sudo) to install: ${missing[*]}" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
