# Clang only (registered for clang alone): with cc1 as a child process
# (-fno-integrated-cc1) the driver's command is still recorded, not cc1's.
# GCC's cc1 is always a child; test_metadata.sh covers its command.
. "$(dirname "$0")/lib.sh"
printf 'int two(int x) { return x + 2; }\n' >two.c
hpcc -fno-integrated-cc1 -O2 -c two.c -o spawned.o
"$HP_CC" -shared spawned.o -o spawned.so
dump spawned.so | grep -q '^argv -cc1$' && fail "cc1 argv recorded"
dump spawned.so | grep -q '^argv -fno-integrated-cc1$' || fail "driver argv not recorded"
echo "cc1: ok"
