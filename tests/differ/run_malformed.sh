#!/usr/bin/env bash
# mkpatch on files that are not well-formed ELF: exit 1 with a one-line
# reason naming the file, never a crash.
set -uo pipefail
mkpatch=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
check() { # file pattern
	out=$("$mkpatch" --dry-run "$1" "$1" 2>&1)
	rc=$?
	echo "$out"
	if [[ $rc -ne 1 ]] || ! grep -Eq -- "$2" <<<"$out" || [[ $(wc -l <<<"$out") -ne 1 ]]; then
		echo "FAIL: $1: exit $rc"
		fail=1
	fi
}
printf 'hello, world\n' >"$work/text"
check "$work/text" "'$work/text': not an ELF file"
: >"$work/empty"
check "$work/empty" "not an ELF file"
head -c 100 /bin/true >"$work/short"
check "$work/short" "'$work/short'"
check "$work/missing" "cannot open '$work/missing'"
# 32-bit-looking header
python3 -c 'import sys; d=bytearray(open("/bin/true","rb").read()); d[4]=1; open(sys.argv[1],"wb").write(d)' "$work/class32"
check "$work/class32" "'$work/class32'"
exit $fail
