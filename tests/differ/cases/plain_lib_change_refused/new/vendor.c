/* the library of ../../../inputs/vendor_lib.c with its two changes */
#define VENDOR_CHANGED
#include "../../../inputs/vendor_lib.c"
