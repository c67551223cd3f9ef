#!/usr/bin/env bash
# Package signatures: keygen, signing, offline verify, and a process
# started with HOTPATCH_TRUSTED_KEYS that runs only what a trusted key
# signed. Every refusal is one line and leaves the engine as it was.
set -euo pipefail
work=$1
source "$(dirname "$0")/lib.sh"
begin_work

# ---- keys ----
"$H" keygen owner >keygen.out || fail "keygen failed"
grep -q "wrote owner.key.*owner.pub (public key ed25519:[0-9a-f]\{16\})" keygen.out ||
	fail "keygen said: $(cat keygen.out)"
[[ $(stat -c %a owner.key) == 600 ]] || fail "secret key mode $(stat -c %a owner.key)"
grep -qx "hotpatch-ed25519-public-key [0-9a-f]\{64\}" owner.pub || fail "owner.pub: $(cat owner.pub)"
cp owner.key owner.key.orig
expect_fail "keygen over an existing key" "cannot create 'owner.key': File exists" \
	"$H" keygen owner
cmp -s owner.key owner.key.orig || fail "keygen changed an existing secret key"
"$H" keygen other >/dev/null
rc=0; "$H" keygen 2>usage.err || rc=$?
((rc == 2)) && grep -q "usage: hotpatch keygen PREFIX" usage.err || fail "keygen without PREFIX: $rc"

# ---- packages ----
build_target target
build_patch patch_a.c a.so
mk() { "$HP_MKPKG" target a.so "$@" --func compute --proxy __hp_proxy.factor=factor; }
mk unsigned.hpk
mk signed.hpk --sign owner.key
mk other.hpk --sign other.key
cp owner.key loose.key && chmod 644 loose.key
expect_fail "signing with a key others can read" "must belong to uid .* and be private" \
	"$HP_MKPKG" target a.so x.hpk --func compute --sign loose.key
[[ ! -e x.hpk ]] || fail "a package was written with a refused key"

# Byte offsets in a package: the manifest (its magic), and re-sealing the
# checksum after a change, as a forger who knows the format would.
manifest_at() { grep -obUa HPATCHPK "$1" | head -1 | cut -d: -f1; }
reseal() {
	python3 - "$1" <<'EOF'
import struct, sys
path = sys.argv[1]
data = bytearray(open(path, 'rb').read())
m = data.find(b'HPATCHPK')
data[m + 24:m + 32] = bytes(8)
h = 0xcbf29ce484222325
for b in data:
    h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
data[m + 24:m + 32] = struct.pack('<Q', h)
open(path, 'wb').write(data)
EOF
}
poke() { printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
u32() { od -An -t u4 -j "$2" -N 4 "$1" | tr -d ' '; }
m=$(manifest_at signed.hpk)
sig=$((m + $(u32 signed.hpk $((m + 148)))))

# Code changed after signing, checksum re-sealed: the signature fails.
cp signed.hpk code.hpk; poke code.hpk 4200 '\x55'; reseal code.hpk
# The signer's key swapped for another one's, checksum re-sealed.
cp signed.hpk swapped.hpk
dd if=<(python3 -c "import sys; sys.stdout.buffer.write(bytes.fromhex(open('other.pub').read().split()[1]))") \
	of=swapped.hpk bs=1 seek=$((sig + 8)) conv=notrunc status=none
reseal swapped.hpk
# The signature stripped (flag cleared): now an unsigned package.
cp signed.hpk stripped.hpk; poke stripped.hpk $((m + 108)) '\x00'; reseal stripped.hpk

# ---- offline verify ----
owner_id=$(grep -o 'ed25519:[0-9a-f]*' keygen.out)
"$H" verify unsigned.hpk | grep -qx unsigned || fail "verify of an unsigned package"
"$H" verify signed.hpk | grep -q "signed by $owner_id: signature valid (no key given" ||
	fail "verify signed.hpk: $("$H" verify signed.hpk)"
"$H" verify signed.hpk --key owner.pub | grep -q "signed by $owner_id: signature valid, key trusted" ||
	fail "verify --key owner.pub"
[[ $("$H" --json verify signed.hpk --key owner.pub) == *'"signer":"'$owner_id'","trusted":true}' ]] ||
	fail "verify --json: $("$H" --json verify signed.hpk --key owner.pub)"
expect_fail "verify: signed by another key" "signed by ed25519:[0-9a-f]*, which is not one of the 1 trusted keys" \
	"$H" verify other.hpk --key owner.pub
expect_fail "verify: unsigned, key required" "package is unsigned" "$H" verify unsigned.hpk --key owner.pub
expect_fail "verify: code changed after signing" "signature by $owner_id does not verify" \
	"$H" verify code.hpk
expect_fail "verify: signer's key swapped" "does not verify: the package was changed" \
	"$H" verify swapped.hpk
expect_fail "verify: signature stripped" "package is unsigned" "$H" verify stripped.hpk --key owner.pub
expect_fail "verify: a secret key given as --key" "is not a hotpatch public key file" \
	"$H" verify signed.hpk --key owner.key

# ---- a process that trusts the owner's key ----
mkdir -m 755 trusted && cp owner.pub trusted/
st=$work/state
start_target target "$st" HOTPATCH_TRUSTED_KEYS="$work/trusted"
expect_state "$st" "3 2"
unchanged() {
	alive "$pid"
	expect_state "$st" "3 2"
	"$H" list "$pid" | grep -q "no patches applied" || fail "a patch is listed"
}
"$H" status "$pid" | grep -q "packages must be signed by one of 1 trusted keys" ||
	fail "status does not say signatures are required"
expect_fail "unsigned package" "package is unsigned, and only packages signed by a trusted key" \
	"$H" apply "$pid" unsigned.hpk; unchanged
expect_fail "signed by an untrusted key" "signed by ed25519:[0-9a-f]*, which is not one of the 1 trusted keys" \
	"$H" apply "$pid" other.hpk; unchanged
expect_fail "changed after signing" "does not verify" "$H" apply "$pid" code.hpk; unchanged
expect_fail "signer's key swapped" "does not verify" "$H" apply "$pid" swapped.hpk; unchanged
expect_fail "signature stripped" "package is unsigned" "$H" apply "$pid" stripped.hpk; unchanged
"$H" apply "$pid" signed.hpk || fail "a package signed by the trusted key was refused"
expect_state "$st" "1003 2"
"$H" list "$pid" | grep -q $'\t'"$owner_id"$'\tcompute' || fail "list: $("$H" list "$pid")"
"$H" --json list "$pid" | grep -q "\"signer\":\"$owner_id\"" || fail "list --json lacks the signer"
# A key added to the directory later is not trusted: keys are read at start.
cp other.pub trusted/
expect_fail "key added after start" "not one of the 1 trusted keys" "$H" apply "$pid" other.hpk
rm trusted/other.pub
"$H" revert "$pid" >/dev/null || fail "revert failed"
unchanged
kill "$pid"

# ---- without HOTPATCH_TRUSTED_KEYS: unsigned works, list says so ----
start_target target "$st"
expect_state "$st" "3 2"
"$H" status "$pid" | grep -q "unsigned packages accepted" || fail "status: $("$H" status "$pid")"
"$H" apply "$pid" unsigned.hpk >/dev/null || fail "unsigned apply failed"
"$H" list "$pid" | grep -q $'\tunsigned\tcompute' || fail "list does not say unsigned"
"$H" revert "$pid" >/dev/null
# A signature that does not verify is refused even when none is required.
expect_fail "bad signature, no keys required" "does not verify" "$H" apply "$pid" code.hpk
unchanged
kill "$pid"

# ---- a trusted-key directory that cannot be trusted: refuse everything ----
start_bad() { # DIR WHY-REGEX
	start_target target "$st" HOTPATCH_TRUSTED_KEYS="$1" 2>start.err
	expect_state "$st" "3 2"
	grep -q "^hotpatch: HOTPATCH_TRUSTED_KEYS: $2; every package will be refused$" start.err ||
		fail "start-up message for $1: $(cat start.err)"
	expect_fail "signed package, keys unusable ($1)" "no trusted key loaded" \
		"$H" apply "$pid" signed.hpk
	unchanged
	kill "$pid"
}
mkdir -m 777 open && cp owner.pub open/
start_bad "$work/open" "trusted-key directory '.*' must belong to root or uid [0-9]* and be writable by no one else"
mkdir -m 755 linked && ln -s "$work/owner.pub" linked/owner.pub
start_bad "$work/linked" "cannot open key '.*owner.pub': it is a symbolic link"
mkdir -m 755 empty
start_bad "$work/empty" "no key file (\*.pub) in '.*empty'"
start_bad "$work/missing" "cannot open trusted-key directory '.*': No such file or directory"
echo "PASS: signing"
