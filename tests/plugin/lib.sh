# Sourced by the test_*.sh scripts; every script runs for both compilers.
# Environment from CMake:
#   HP_COMPILER     clang | gcc (for the few expectations that differ)
#   HP_CC           the compiler driver (clang-19, or the gcc the GCC
#                   plugin was built for)
#   HP_PLUGIN_FLAG  how that driver loads the plugin: -fpass-plugin=PATH
#                   or -fplugin=PATH
#   HP_PLUGIN_NAME  how the plugin names itself in its error messages
#   HP_CHECK        hp_plugin_check;  HP_INPUTS, HP_WORK: folders
set -eu
rm -rf "$HP_WORK"
mkdir -p "$HP_WORK"
cd "$HP_WORK"
unset HOTPATCH_PATCH_SPEC HOTPATCH_GCC_DUMP || true
case "$HP_COMPILER" in clang | gcc) ;; *) echo "FAIL: HP_COMPILER '$HP_COMPILER'" >&2; exit 1 ;; esac

hpcc() { "$HP_CC" "$HP_PLUGIN_FLAG" "$@"; }

fail() { echo "FAIL ($HP_COMPILER): $*" >&2; exit 1; }

# is COMPILER: is this run for that compiler?
is() { [ "$HP_COMPILER" = "$1" ]; }

dump() { "$HP_CHECK" dump "$1"; }

# hashes FILE: "name hash" per recorded function, sorted
hashes() { dump "$1" | awk '$1 == "func" { sub("hash=", "", $3); print $2, $3 }' | sort; }

# changed A B: names whose hash differs between two builds, one line
changed() {
	hashes "$1" >"$1.h"
	hashes "$2" >"$2.h"
	join "$1.h" "$2.h" | awk '$2 != $3 { print $1 }' | sort | tr '\n' ' '
}

# field FILE NAME FIELD: value of FIELD= on the func line of NAME
field() {
	dump "$1" | awk -v n="$2" -v f="$3" \
		'$1 == "func" && $2 == n { for (i = 3; i <= NF; i++) if (index($i, f "=") == 1) print substr($i, length(f) + 2) }'
}

# has_item LIST ITEM: is ITEM in the comma-separated LIST?
has_item() { case ",$1," in *",$2,"*) return 0 ;; *) return 1 ;; esac; }

# flags FILE NAME: the numeric flags of a recorded function
flags() { v=$(field "$1" "$2" flags); [ -n "$v" ] || fail "$2 not recorded in $1"; echo $((v)); }

# tu_flags FILE: the numeric flags of the (first) TU record
tu_flags() { dump "$1" | awk '$1 == "tu" { for (i = 2; i <= NF; i++) if ($i ~ /^flags=/) { print substr($i, 7); exit } }'; }
