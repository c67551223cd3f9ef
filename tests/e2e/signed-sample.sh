#!/usr/bin/env bash
# A signed live patch, the way a user makes one: hotpatch keygen, mkpatch
# --sign, an engine started with HOTPATCH_TRUSTED_KEYS that refuses the
# same fix unsigned and applies it signed, under load.
#
# Usage: signed-sample.sh ROOT PATCH_DIR WORK CC PLUGIN RUNTIME CLI MKPATCH HPLOAD
set -euo pipefail
root=$1 patch_dir=$2 work=$3 cc=$4 plugin=$5 runtime=$6 cli=$7 mkpatch=$8 hpload=$9
. "$root/scripts/lib/hpkv.sh"

hpkv_test_begin
hpkv_build_versions "$root" "$patch_dir" || fail "building v1/v2 failed"
cd "$work"

"$cli" keygen release >/dev/null || fail "keygen failed"
cp release.key loose.key && chmod 640 loose.key
status=0
"$mkpatch" --sign loose.key v1/hpkv v2/hpkv -o loose.hpk 2>loose.err || status=$?
((status == 1)) || fail "mkpatch --sign with a group-readable key exited $status"
[[ $(wc -l <loose.err) == 1 ]] && grep -q "^mkpatch: --sign: secret key 'loose.key' must belong" loose.err ||
	fail "mkpatch --sign loose.key said: $(cat loose.err)"
[[ ! -e loose.hpk ]] || fail "a package was written with a refused key"

"$mkpatch" v1/hpkv v2/hpkv -o unsigned.hpk 2>/dev/null || fail "mkpatch (unsigned) exited $?"
"$mkpatch" --sign release.key v1/hpkv v2/hpkv -o signed.hpk 2>/dev/null ||
	fail "mkpatch --sign exited $?"
id=$(grep -o '[0-9a-f]\{64\}' release.pub | cut -c1-16)
"$cli" verify signed.hpk --key release.pub | grep -q "signed by ed25519:$id: signature valid, key trusted" ||
	fail "verify: $("$cli" verify signed.hpk --key release.pub 2>&1)"

mkdir -m 755 trusted && cp release.pub trusted/
export HOTPATCH_TRUSTED_KEYS=$work/trusted
hpkv_start "$work/v1/hpkv"
"$hpload" --port "$port" --connections 4 --seconds 4 >"$work/load.txt" 2>&1 &
load_pid=$!
before=$(hpkv_probe_field "$patch_dir" before)
after=$(hpkv_probe_field "$patch_dir" after)
expect() {
	local got
	got=$(hpkv_probe_sample "$patch_dir")
	[[ $got == "$1" ]] || fail "$2: answered '$got', expected '$1'"
}
expect "$before" "before apply"
status=0
"$cli" apply "$engine_pid" unsigned.hpk 2>refused.err || status=$?
((status == 1)) && grep -q "package is unsigned" refused.err ||
	fail "the unsigned package was not refused ($status): $(cat refused.err)"
expect "$before" "after the refused apply"
"$cli" apply "$engine_pid" signed.hpk || fail "the signed package was refused"
expect "$after" "after the signed apply"
"$cli" list "$engine_pid" | grep -q $'\ted25519:'"$id"$'\t' || fail "list: $("$cli" list "$engine_pid")"
"$cli" revert "$engine_pid" >/dev/null || fail "revert failed"
expect "$before" "after revert"
wait "$load_pid" || { cat "$work/load.txt"; fail "load client reported errors or mismatches"; }
load_pid=
hpkv_stop || fail "engine did not shut down cleanly"
echo "PASS: signed $(basename "$patch_dir")"
