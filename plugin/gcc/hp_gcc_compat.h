/* The one place that includes GCC's plugin headers.
 *
 * GCC's internal headers must come in a fixed order (gcc-plugin.h first,
 * then tree, then the pass and RTL machinery), and their contents move
 * between releases. Keeping every include and every version guard here
 * lets the plugin's own files read as plain C-style C++. Built against
 * GCC 12's headers; plugin_init refuses any other GCC at run time.
 */
#ifndef HP_GCC_COMPAT_H
#define HP_GCC_COMPAT_H

#include "gcc-plugin.h"
#include "plugin-version.h"

#include "tree.h"
#include "tree-pass.h"
#include "context.h"
#include "function.h"
#include "basic-block.h"
#include "cfg.h"
#include "tree-ssa-alias.h"
#include "gimple-expr.h"
#include "gimple.h"
#include "gimple-iterator.h"
#include "tree-cfg.h"
#include "cgraph.h"
#include "stringpool.h"
#include "attribs.h"
#include "ssa.h"
#include "tree-dfa.h"
#include "tree-into-ssa.h"
#include "gimplify.h"
#include "diagnostic-core.h"
#include "real.h"
#include "rtl.h"
#include "memmodel.h"
#include "emit-rtl.h"
#include "insn-codes.h"
#include "insn-config.h"
#include "recog.h"
#include "output.h"
#include "target.h"
#include "varasm.h"
#include "flags.h"
#include "options.h"
#include "toplev.h"
#include "opts.h"

#if GCCPLUGIN_VERSION_MAJOR != 12
#error "plugin/gcc is written against GCC 12's plugin API"
#endif

#if !defined(__x86_64__)
#error "plugin/gcc supports x86-64 hosts only"
#endif

#endif
