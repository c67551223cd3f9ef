// Internal interface of the Clang/LLVM plugin (hotpatch-llvm.so).
//
// The plugin adds two module passes: one at the start of the pipeline that
// pins names and snapshots the call graph, one at the very end that applies
// patch mode, makes every function patchable and writes the .hotpatch
// record. Everything compiler-neutral lives in C under plugin/common and
// format/metadata.
#ifndef HP_LLVM_H
#define HP_LLVM_H

#include "hp_patch_spec.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/PassManager.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace llvm
{
class PassBuilder;
}

namespace hp
{

// What one compile of one module needs to remember between the passes.
struct ModuleState {
	// functions with a body at pipeline start, and the functions each
	// of them referenced then (calls and addresses)
	llvm::StringMap<std::vector<std::string>> StartRefs;
	// (caller, callee) pairs the inliner reported
	std::set<std::pair<std::string, std::string>> Inlined;
	// functions that inline assembly calls or jumps to by name, and
	// where that assembly is (a function's name, or "a top-level asm statement")
	std::map<std::string, std::string> AsmCallers;
	// every inline assembly text of the module, and the globals the
	// source itself kept with __attribute__((used)): either may write a
	// variable where no IR shows it
	std::vector<std::string> AsmTexts;
	std::set<std::string> UsedBySource;
	bool PatchMode = false;
	bool Failed = false; // an error was reported: emit nothing more
	std::string SpecPath;
	// patch mode: (target name, its proxy slot): a slot variable, or an
	// alias naming one entry of a compiler-made table (hp_llvm_patch.cpp)
	std::vector<std::pair<std::string, llvm::GlobalValue *>> Proxies;
	hp_patch_spec Spec = {};

	~ModuleState()
	{
		hp_patch_spec_release(&Spec);
	}
};

// Canonical 64-bit hash of a function's body (hp_llvm_hash.cpp), and in
// *LineHash (if not NULL) the hash of the line numbers it passes to calls,
// which the body hash leaves out (0: none).
uint64_t hashFunction(const llvm::Function &F, uint32_t *LineHash = nullptr);
// Hash of a global's initial value; 0 when zero-filled or absent.
uint64_t hashInitializer(const llvm::GlobalVariable &GV);

// Functions and non-private globals a function's body refers to.
void collectRefs(const llvm::Function &F, std::set<const llvm::Function *> &Funcs,
		 std::set<const llvm::GlobalVariable *> &Vars);

// Pipeline start: read the environment, pin names, snapshot the call graph.
void startModule(llvm::Module &M, ModuleState &S);
// Pipeline end: patch mode, padding attributes, the .hotpatch record.
void finishModule(llvm::Module &M, ModuleState &S);
// Patch mode rewrite (hp_llvm_patch.cpp); false after reporting an error.
bool applyPatchSpec(llvm::Module &M, ModuleState &S);

// Wrap the inliner's advisor to record (caller, callee) in S->Inlined.
void registerInlineRecorder(llvm::PassBuilder &PB, std::shared_ptr<ModuleState> S);

// Report an error as a compiler diagnostic naming the plugin.
void reportError(llvm::LLVMContext &Ctx, const llvm::Twine &Msg);

// Is this function emitted into the object (a body the TU owns)?
bool isEmittedFunction(const llvm::Function &F);
// Is this a global variable the metadata describes?
bool isRecordedVariable(const llvm::GlobalVariable &GV);

} // namespace hp

#endif
