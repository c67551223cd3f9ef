# Sourced by the test_*.sh scripts. Environment from CMake: HP_CC,
# HP_PLUGIN, HP_CHECK, HP_INPUTS, HP_WORK.
set -eu
rm -rf "$HP_WORK"
mkdir -p "$HP_WORK"
cd "$HP_WORK"
unset HOTPATCH_PATCH_SPEC || true

hpcc() { "$HP_CC" -fpass-plugin="$HP_PLUGIN" "$@"; }

fail() { echo "FAIL: $*" >&2; exit 1; }

# hashes FILE: "name hash" per recorded function, sorted
hashes() { "$HP_CHECK" dump "$1" | awk '$1 == "func" { sub("hash=", "", $3); print $2, $3 }' | sort; }

# func_field FILE NAME FIELD: e.g. inlined=..., calls=...
func_field() {
	"$HP_CHECK" dump "$1" | awk -v n="$2" -v f="$3" \
		'$1 == "func" && $2 == n { for (i = 3; i <= NF; i++) if (index($i, f "=") == 1) print substr($i, length(f) + 2) }'
}

# has_item LIST ITEM: is ITEM in the comma-separated LIST?
has_item() { case ",$1," in *",$2,"*) return 0 ;; *) return 1 ;; esac; }
