# Shell helpers shared by scripts/demo.sh and tests/e2e: build two versions
# of the sample engine with the plugin, start one with the runtime, probe it.
# Source it; it defines functions only. Callers set: cc (clang-19 or gcc),
# plugin (hotpatch-llvm.so or hotpatch-gcc.so), runtime, hpload, work (a
# scratch directory).

# hpkv_build_versions ROOT PATCH_DIR: work/v1 = samples/engine,
# work/v2 = the same plus PATCH_DIR/fix.diff (made against the repository
# root, hence -p3 inside a copy of samples/engine), both built with the plugin.
# Sources are compiled by relative path from their own directory, so both
# builds record the same translation-unit names.
hpkv_build_versions() {
	local root=$1 patch_dir=$2 v
	hpkv_include=$root/include # a fix may use hotpatch.h (hooks, shadows)
	for v in v1 v2; do
		rm -rf "${work:?}/$v"
		mkdir -p "$work/$v"
		cp "$root"/samples/engine/*.[ch] "$work/$v/"
	done
	patch -s -p3 -d "$work/v2" <"$patch_dir/fix.diff" || return 1
	for v in v1 v2; do
		(cd "$work/$v" && hpkv_compile) || return 1
	done
}

# hpkv_plugin_flag: the option that loads $plugin into $cc.
hpkv_plugin_flag() {
	if [[ $(basename "$plugin") == hotpatch-gcc.so ]]; then
		echo "-fplugin=$plugin"
	else
		echo "-fpass-plugin=$plugin"
	fi
}

# hpkv_compile: in an engine source directory, one compile per translation
# unit as a build system would run it, then the link.
hpkv_compile() {
	local src flag
	flag=$(hpkv_plugin_flag)
	for src in ./*.c; do
		"$cc" -O2 -g -pthread "$flag" ${hpkv_include:+-I"$hpkv_include"} -c "$src" \
			-o "${src%.c}.o" || return 1
	done
	"$cc" -pthread -o hpkv ./*.o
}

# hpkv_start BINARY: starts it on a free port with the runtime preloaded
# (when $runtime is set); sets engine_pid and port.
hpkv_start() {
	local binary=$1 portfile=$work/port _
	# Created here, not by the child's redirection: a sed that ran before
	# the child opened it would fail and end a set -e caller silently.
	: >"$portfile"
	if [[ -n ${runtime:-} ]]; then
		LD_PRELOAD=$runtime "$binary" --port 0 >"$portfile" 2>"$work/engine.log" &
	else
		"$binary" --port 0 >"$portfile" 2>"$work/engine.log" &
	fi
	engine_pid=$!
	for _ in $(seq 200); do
		port=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$portfile" 2>/dev/null) || true
		[[ -n $port ]] && return 0
		kill -0 "$engine_pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "hpkv did not report its port; its log:" >&2
	cat "$work/engine.log" >&2
	return 1
}

# hpkv_stop: SIGTERM and wait; fails unless the engine exits 0.
hpkv_stop() {
	[[ -n ${engine_pid:-} ]] || return 0
	local pid=$engine_pid
	engine_pid=
	kill -TERM "$pid" && wait "$pid"
}

# hpkv_probe LINE: one request, prints the reply line.
hpkv_probe() {
	"$hpload" --port "$port" --send "$1"
}

# hpkv_probe_field PATCH_DIR KEY: a field (send/before/after/...) of the
# patch's probe file (format: samples/README.md).
hpkv_probe_field() {
	sed -n "s/^$2: //p" "$1/probe"
}

# hpkv_expand LINE: a probe line with every {N*c} replaced by N times the
# character c (a 64 KiB value without a 64 KiB line in the probe file).
hpkv_expand() {
	local line=$1 rep
	while [[ $line =~ \{([0-9]+)\*(.)\} ]]; do
		printf -v rep '%*s' "${BASH_REMATCH[1]}" ''
		line=${line/"${BASH_REMATCH[0]}"/${rep// /${BASH_REMATCH[2]}}}
	done
	printf '%s\n' "$line"
}

# hpkv_probe_sample PATCH_DIR: sends the probe's setup lines and its request
# on one connection; prints the reply to the request.
hpkv_probe_sample() {
	local args=() line
	while IFS= read -r line; do
		args+=(--send "$(hpkv_expand "$line")")
	done < <(hpkv_probe_field "$1" setup)
	args+=(--send "$(hpkv_expand "$(hpkv_probe_field "$1" send)")")
	"$hpload" --port "$port" "${args[@]}" | tail -n 1
}

# hpkv_expect_round WHAT TEXT: for the small test programs that print one
# line "R ROUND TEXT" per round to out.txt (their stderr in program.log),
# running as $engine_pid: the second round printed from now on shows TEXT
# (the first may have been computed before a change). Waits up to 20 s.
hpkv_expect_round() {
	local start line _
	start=$(wc -l <out.txt)
	for _ in $(seq 400); do
		line=$(tail -n +$((start + 1)) out.txt | grep '^R ' | sed -n 2p) || true
		[[ -n $line ]] && break
		kill -0 "$engine_pid" 2>/dev/null || { cat program.log; fail "the program died"; }
		sleep 0.05
	done
	[[ -n $line ]] || fail "$1: no fresh line within 20 s"
	[[ ${line#R * } == "$2" ]] || fail "$1: printed '${line#R * }', expected '$2'"
}

# hpkv_test_begin: for test scripts: fail() and a trap that stops the engine
# (engine_pid) and a background load client (load_pid) however the script
# ends; starts with an empty $work.
hpkv_test_begin() {
	engine_pid=
	load_pid=
	trap hpkv_test_cleanup EXIT
	rm -rf "${work:?}" && mkdir -p "$work"
}

hpkv_test_cleanup() {
	[[ -n ${load_pid:-} ]] && kill "$load_pid" 2>/dev/null || true
	[[ -n ${engine_pid:-} ]] && kill -KILL "$engine_pid" 2>/dev/null || true
	wait 2>/dev/null || true
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
