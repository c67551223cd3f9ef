// Patch mode (docs/patch-mode.md): not implemented yet.
#include "hp_llvm.h"

using namespace llvm;

namespace hp {

bool applyPatchSpec(Module &M, ModuleState &S)
{
	reportError(M.getContext(), "patch mode is not implemented yet");
	return false;
}

} // namespace hp
