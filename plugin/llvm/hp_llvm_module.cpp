// The two module passes: pipeline start (pin, snapshot) and end (padding,
// metadata). See hp_llvm.h.
#include "hp_llvm.h"

#include "hp_asm_scan.h"
#include "hp_cmdline.h"
#include "hp_md_writer.h"
#include "hp_metadata_format.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/InlineAsm.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/IR/Mangler.h"
#include "llvm/Support/Alignment.h"
#include "llvm/Transforms/Utils/ModuleUtils.h"

#include <cstdlib>
#include <cstring>
#include <unistd.h>

#ifndef HP_PLUGIN_VERSION
#define HP_PLUGIN_VERSION "0.0.0"
#endif

extern "C" char **environ;

using namespace llvm;

namespace hp
{

static const unsigned PrefixBytes = 5; // padding before the entry
static const unsigned FunctionAlign = 16;

void reportError(LLVMContext &Ctx, const Twine &Msg)
{
	Ctx.emitError("hotpatch-llvm.so: " + Msg);
}

bool isEmittedFunction(const Function &F)
{
	return !F.isDeclaration() && !F.hasAvailableExternallyLinkage() && !F.isIntrinsic();
}

bool isRecordedVariable(const GlobalVariable &GV)
{
	return !GV.isDeclaration() && !GV.hasPrivateLinkage() &&
	       !GV.hasAvailableExternallyLinkage() && !GV.getName().starts_with("llvm.") &&
	       !GV.getName().starts_with("__hp_proxy.");
}

// Only HOTPATCH_PATCH_SPEC is defined; a misspelt HOTPATCH_PLUGIN_* or
// HOTPATCH_PATCH_* variable is an error rather than silently ignored.
static bool readEnvironment(LLVMContext &Ctx, ModuleState &S)
{
	char msg[512];

	for (char **E = environ; E && *E; E++) {
		StringRef Var = StringRef(*E).split('=').first;
		if ((Var.starts_with("HOTPATCH_PLUGIN_") || Var.starts_with("HOTPATCH_PATCH_")) &&
		    Var != "HOTPATCH_PATCH_SPEC") {
			reportError(Ctx, "unknown option '" + Var +
						 "' in the environment (the plugin "
						 "knows only HOTPATCH_PATCH_SPEC)");
			return false;
		}
	}
	const char *Path = getenv("HOTPATCH_PATCH_SPEC");
	if (!Path)
		return true;
	S.SpecPath = Path;
	if (hp_patch_spec_load(&S.Spec, Path, msg, sizeof(msg))) {
		reportError(Ctx, msg);
		return false;
	}
	S.PatchMode = true;
	return true;
}

// Link-time optimisation inlines and optimises again across translation
// units after this plugin has hashed and recorded every function, so the
// metadata would describe code that is not the code in the binary. Clang
// marks an LTO pre-link module (-flto, -flto=thin) with these module flags
// before its pipeline runs.
static bool refuseLTO(Module &M)
{
	if (!M.getModuleFlag("EnableSplitLTOUnit") && !M.getModuleFlag("ThinLTO"))
		return true;
	reportError(M.getContext(), "link-time optimisation (-flto) is not supported: the "
				    "metadata would miss what the link-time optimiser "
				    "changes; build with -fno-lto");
	return false;
}

// Callers may depend on a callee by name and signature only. LLVM's
// interprocedural passes (IPSCCP's return-value folding, FunctionAttrs'
// readnone/noreturn/willreturn/nocapture/returned/noalias inference,
// DeadArgElim's "unused argument" at call sites, the Attributor) all ask
// GlobalValue::hasExactDefinition() before using a body's facts; a
// definition carrying the nobuiltin attribute is "may be derefined" and so
// not exact. The inliner asks isInterposable() instead, so inlining, which
// the metadata records, stays on. What nobuiltin itself does on a
// definition: calls to a function of that name are never treated as the
// C library's builtin of the same name (a program defining its own strlen)
// — right for a function the patch may replace. docs/plugin.md lists what
// else was checked.
static void makeInexactForIPO(Function &F)
{
	F.addFnAttr(Attribute::NoBuiltin);
}

// Functions that inline assembly calls by name (hp_asm_scan.h): that
// assembly depends on their bodies' register use, which no attribute
// can hide from it.
static void findAsmCallers(const Module &M, ModuleState &S)
{
	struct Found {
		ModuleState &S;
		std::string Where;
	};
	auto Record = [](const char *Name, size_t Len, void *Ctx) {
		Found &F = *static_cast<Found *>(Ctx);
		F.S.AsmCallers.emplace(std::string(Name, Len), F.Where);
	};
	Found Top{S, "a top-level asm statement"};
	hp_asm_branch_targets(M.getModuleInlineAsm().c_str(), Record, &Top);
	S.AsmTexts.push_back(M.getModuleInlineAsm());
	for (const Function &F : M) {
		Found In{S, F.getName().str() + "()"};
		for (const BasicBlock &BB : F)
			for (const Instruction &I : BB)
				if (auto *CB = dyn_cast<CallBase>(&I))
					if (auto *IA =
						    dyn_cast<InlineAsm>(CB->getCalledOperand())) {
						hp_asm_branch_targets(IA->getAsmString().c_str(),
								      Record, &In);
						S.AsmTexts.push_back(IA->getAsmString());
					}
	}
}

// Keep every name as the source wrote it: a global in llvm.compiler.used
// counts as address-taken, so the optimiser neither changes a function's
// signature or calling convention (dead-argument elimination, fastcc) nor
// splits a global into scalars (hist[4] -> hist.0).
void startModule(Module &M, ModuleState &S)
{
	std::vector<GlobalValue *> Pin;

	if (!readEnvironment(M.getContext(), S) || !refuseLTO(M)) {
		S.Failed = true;
		return;
	}
	findAsmCallers(M, S);
	for (const char *Used : {"llvm.used", "llvm.compiler.used"}) {
		SmallVector<GlobalValue *, 8> Kept;
		collectUsedGlobalVariables(M, Kept, Used == StringRef("llvm.compiler.used"));
		for (GlobalValue *GV : Kept)
			S.UsedBySource.insert(GV->getName().str());
	}
	for (Function &F : M) {
		if (!isEmittedFunction(F))
			continue;
		makeInexactForIPO(F);
		Pin.push_back(&F);
		std::set<const Function *> Funcs;
		std::set<const GlobalVariable *> Vars;
		collectRefs(F, Funcs, Vars);
		std::vector<std::string> &Refs = S.StartRefs[F.getName()];
		for (const Function *Callee : Funcs)
			if (!Callee->isIntrinsic())
				Refs.push_back(Callee->getName().str());
	}
	for (GlobalVariable &GV : M.globals())
		if (isRecordedVariable(GV))
			Pin.push_back(&GV);
	appendToCompilerUsed(M, Pin);
}

// Functions whose code may be part of F's body: every function F
// referenced at pipeline start and no longer references, and what those
// referenced in turn (their code came along), plus what the inliner
// reported. A call that vanished for another reason (dead code) counts
// too: a superset is safe, a missing function is a wrong patch.
static std::vector<std::string> inlinedInto(const Function &F, const ModuleState &S,
					    const std::set<const Function *> &EndFuncs)
{
	std::set<std::string> End, Result;
	std::vector<std::string> Work;

	for (const Function *G : EndFuncs)
		End.insert(G->getName().str());
	auto Start = [&](StringRef Name) -> const std::vector<std::string> * {
		auto It = S.StartRefs.find(Name);
		if (It == S.StartRefs.end()) // a clone: it started as its origin
			It = S.StartRefs.find(Name.split('.').first);
		return It == S.StartRefs.end() ? nullptr : &It->second;
	};
	if (auto *Refs = Start(F.getName()))
		Work = *Refs;
	for (const auto &Edge : S.Inlined)
		if (Edge.first == F.getName())
			Work.push_back(Edge.second);
	while (!Work.empty()) {
		std::string G = Work.back();
		Work.pop_back();
		bool Reported = S.Inlined.count({F.getName().str(), G});
		if (G == F.getName() || Result.count(G) || !S.StartRefs.count(G) ||
		    (End.count(G) && !Reported))
			continue;
		Result.insert(G);
		if (auto *Refs = Start(G))
			Work.insert(Work.end(), Refs->begin(), Refs->end());
		for (const auto &Edge : S.Inlined)
			if (Edge.first == G)
				Work.push_back(Edge.second);
	}
	return std::vector<std::string>(Result.begin(), Result.end());
}

static std::string asmName(const GlobalValue &GV)
{
	SmallString<128> Buf;
	Mangler().getNameWithPrefix(Buf, &GV, false);
	return Buf.str().str();
}

static bool cfProtectionBranch(const Module &M)
{
	auto *Flag = mdconst::extract_or_null<ConstantInt>(M.getModuleFlag("cf-protection-branch"));
	return Flag && !Flag->isZero();
}

// Storage for the strings the C descriptors point to.
struct FuncRecord {
	std::string Name, Asm, Origin, Reason;
	std::vector<std::string> Inlined, Calls, Vars;
	std::vector<const char *> InlinedP, CallsP, VarsP;
	uint64_t Hash = 0;
	uint32_t LineHash = 0, Flags = 0, EntryOffset = 0;
};

struct VarRecord {
	std::string Name, Asm, Owner, SourceName;
	uint64_t Size = 0, InitHash = 0;
	uint32_t Flags = 0;
};

// Padding and atomic entry: 5 one-byte NOPs before the symbol, the prefix
// 16-aligned, so the padding and the entry at 5 mod 16 share one aligned
// quadword (after endbr64 when -fcf-protection=branch the entry is in the
// next one), and a 2-byte entry instruction. Returns the reason when it
// cannot.
static const char *makePatchable(Function &F, const ModuleState &S, std::string &Why)
{
	auto Asm = S.AsmCallers.find(F.getName().str());
	if (Asm != S.AsmCallers.end()) {
		Why = "called by name from inline assembly in " + Asm->second +
		      ", which relies on its register use";
		return Why.c_str();
	}
	if (F.hasFnAttribute(Attribute::Naked))
		return "naked";
	if (F.hasFnAttribute("patchable-function-entry") ||
	    F.hasFnAttribute("patchable-function-prefix") || F.hasFnAttribute("patchable-function"))
		return "patchable_function_entry set by the source";
	if (F.hasFnAttribute("function-instrument") ||
	    F.hasFnAttribute("xray-instruction-threshold"))
		return "xray instrumentation";
	F.addFnAttr("patchable-function-prefix", std::to_string(PrefixBytes));
	// The function's first instruction is the atomic entry when it is 2
	// bytes or more (a 2-byte NOP is put before it otherwise): LLVM's
	// prologue-short-redirect. The entry block has no predecessors, so
	// nothing branches back to it. Saves the 2 bytes of a NOP of our own
	// in most functions.
	F.addFnAttr("patchable-function", "prologue-short-redirect");
	if (!F.getAlign() || F.getAlign()->value() < FunctionAlign)
		F.setAlignment(Align(FunctionAlign));
	return nullptr;
}

static void describeFunction(Function &F, const ModuleState &S, bool Endbr, FuncRecord &R)
{
	std::set<const Function *> Funcs;
	std::set<const GlobalVariable *> Vars;

	R.Name = F.getName().str();
	R.Asm = asmName(F);
	R.Hash = hashFunction(F, &R.LineHash);
	collectRefs(F, Funcs, Vars);
	R.Inlined = inlinedInto(F, S, Funcs);
	for (const Function *G : Funcs)
		if (!G->isIntrinsic())
			R.Calls.push_back(G->getName().str());
	for (const GlobalVariable *V : Vars)
		R.Vars.push_back(V->getName().str());

	if (!F.hasLocalLinkage())
		R.Flags |= HP_MD_FUNC_EXTERNAL;
	if (F.hasWeakLinkage() || F.hasLinkOnceLinkage() || F.hasExternalWeakLinkage())
		R.Flags |= HP_MD_FUNC_WEAK;
	if (F.isVarArg())
		R.Flags |= HP_MD_FUNC_VARIADIC;
	if (F.hasAddressTaken(nullptr, false, true, true, false, false))
		R.Flags |= HP_MD_FUNC_ADDRESS_TAKEN;
	StringRef Origin = F.getName().split('.').first;
	if (Origin != F.getName() && !Origin.empty()) {
		R.Flags |= HP_MD_FUNC_CLONE;
		R.Origin = Origin.str();
	}
	std::string Why;
	if (const char *Reason = makePatchable(F, S, Why)) {
		R.Reason = Reason;
		return;
	}
	R.Flags |= HP_MD_FUNC_PATCHABLE | HP_MD_FUNC_ENTRY_INSN;
	// X86IndirectBranchTracking gives endbr64 to every function that is
	// not local and unreferenced; ours are all in llvm.compiler.used.
	if (Endbr && !F.doesNoCfCheck()) {
		R.Flags |= HP_MD_FUNC_ENDBR;
		R.EntryOffset = 4;
	}
}

// Is U an entry list of llvm.compiler.used or llvm.used (a pin, ours or
// the source's), and nothing else?
static bool isUsedList(const User *U)
{
	if (!isa<ConstantArray>(U))
		return false;
	for (const User *G : U->users()) {
		auto *GV = dyn_cast<GlobalVariable>(G);
		if (!GV || (GV->getName() != "llvm.compiler.used" && GV->getName() != "llvm.used"))
			return false;
	}
	return true;
}

// Does any inline assembly text of the module name GV? No IR use shows it.
static bool namedByAsm(const GlobalValue &GV, const ModuleState &S)
{
	std::string Asm = asmName(GV);
	for (const std::string &Text : S.AsmTexts)
		if (hp_asm_mentions(Text.c_str(), Asm.c_str()))
			return true;
	return false;
}

// Does every use of V only read memory through it? Loads, the source of
// memcpy/memmove, and address arithmetic leading to those; the pin in
// llvm.compiler.used is not a use.
static bool onlyRead(const Value *V)
{
	for (const Use &U : V->uses()) {
		const User *Us = U.getUser();
		if (auto *LI = dyn_cast<LoadInst>(Us)) {
			if (LI->isVolatile())
				return false;
			continue;
		}
		if (auto *MT = dyn_cast<MemTransferInst>(Us)) {
			if (U.getOperandNo() != 1 || MT->isVolatile())
				return false;
			continue;
		}
		if (isa<GetElementPtrInst>(Us) ||
		    (isa<ConstantExpr>(Us) &&
		     cast<ConstantExpr>(Us)->getOpcode() == Instruction::GetElementPtr)) {
			if (!onlyRead(Us))
				return false;
			continue;
		}
		if (isUsedList(Us))
			continue;
		return false;
	}
	return true;
}

// A constant with no address in it: patch mode can rebuild it as it is.
static bool holdsNoAddress(const Constant *C)
{
	if (isa<GlobalValue>(C) || isa<BlockAddress>(C))
		return false;
	for (const Use &Op : C->operands())
		if (auto *OpC = dyn_cast<Constant>(Op.get()); OpC && !holdsNoAddress(OpC))
			return false;
	return true;
}

// A writable global that no code can write (HP_MD_VAR_NEVER_WRITTEN): only
// a TU-local one, where this TU's code is all the code that can reach it.
static bool isNeverWritten(const GlobalVariable &GV, const ModuleState &S)
{
	if (!GV.hasLocalLinkage() || GV.isConstant() || GV.isThreadLocal() ||
	    GV.isExternallyInitialized() || !GV.hasInitializer() ||
	    S.UsedBySource.count(GV.getName().str()))
		return false;
	return !namedByAsm(GV, S) && holdsNoAddress(GV.getInitializer()) && onlyRead(&GV);
}

static void describeVariable(const GlobalVariable &GV, const Module &M, const ModuleState &S,
			     VarRecord &R)
{
	R.Name = GV.getName().str();
	R.Asm = asmName(GV);
	R.Size = M.getDataLayout().getTypeAllocSize(GV.getValueType());
	R.InitHash = hashInitializer(GV);
	if (!GV.hasLocalLinkage())
		R.Flags |= HP_MD_VAR_EXTERNAL;
	if (GV.hasWeakLinkage() || GV.hasLinkOnceLinkage() || GV.hasCommonLinkage())
		R.Flags |= HP_MD_VAR_WEAK;
	if (GV.isThreadLocal())
		R.Flags |= HP_MD_VAR_TLS;
	if (GV.isConstant())
		R.Flags |= HP_MD_VAR_CONST;
	else if (isNeverWritten(GV, S))
		R.Flags |= HP_MD_VAR_NEVER_WRITTEN;
	// clang names a static local "function.variable"; C identifiers
	// have no dots, so a dotted internal name whose prefix is a
	// function of this TU is one.
	auto [Owner, Rest] = GV.getName().split('.');
	const Function *F = M.getFunction(Owner);
	if (GV.hasLocalLinkage() && !Rest.empty() && F && !F->isDeclaration()) {
		R.Flags |= HP_MD_VAR_STATIC_LOCAL;
		R.Owner = Owner.str();
		R.SourceName = Rest.split('.').first.str();
	} else {
		R.SourceName = R.Name;
	}
}

static std::vector<const char *> cstrs(const std::vector<std::string> &V)
{
	std::vector<const char *> P;
	for (const std::string &S : V)
		P.push_back(S.c_str());
	return P;
}

static void emitRecord(Module &M, ModuleState &S, std::vector<FuncRecord> &Funcs,
		       std::vector<VarRecord> &Vars)
{
	std::vector<hp_md_func_desc> FD;
	std::vector<hp_md_var_desc> VD;
	hp_cmdline Cmd = {};
	char Cwd[4096];
	char *Text = nullptr;

	for (FuncRecord &R : Funcs) {
		R.InlinedP = cstrs(R.Inlined);
		R.CallsP = cstrs(R.Calls);
		R.VarsP = cstrs(R.Vars);
		FD.push_back({R.Name.c_str(), R.Asm.empty() ? nullptr : R.Asm.c_str(), R.Hash,
			      R.LineHash, R.Flags, R.EntryOffset,
			      R.Origin.empty() ? nullptr : R.Origin.c_str(),
			      R.Reason.empty() ? nullptr : R.Reason.c_str(), R.InlinedP.data(),
			      R.InlinedP.size(), R.CallsP.data(), R.CallsP.size(), R.VarsP.data(),
			      R.VarsP.size()});
	}
	for (VarRecord &R : Vars)
		VD.push_back({R.Name.c_str(), R.Asm.empty() ? nullptr : R.Asm.c_str(), R.Size,
			      R.InitHash, R.Flags, R.Owner.empty() ? nullptr : R.Owner.c_str(),
			      R.SourceName.c_str()});

	std::string Source = M.getSourceFileName();
	hp_cmdline_driver(&Cmd, Source.c_str());
	const char *Output = hp_cmdline_output(&Cmd);
	hp_md_tu_desc TU = {};
	TU.compiler = HP_MD_COMPILER_CLANG;
	if (S.PatchMode)
		TU.flags |= HP_MD_TU_PATCH_MODE;
	if (M.getPICLevel() != PICLevel::NotPIC)
		TU.flags |= HP_MD_TU_PIC;
	if (M.getPIELevel() != PIELevel::Default)
		TU.flags |= HP_MD_TU_PIE;
	if (cfProtectionBranch(M))
		TU.flags |= HP_MD_TU_CF_PROTECTION;
	TU.source = Source.c_str();
	TU.cwd = getcwd(Cwd, sizeof(Cwd)) ? Cwd : "";
	TU.argc = Cmd.argc;
	TU.argv = Cmd.argv;
	TU.output = Output;
	TU.compiler_version = "clang " LLVM_VERSION_STRING;
	TU.plugin_version = "hotpatch " HP_PLUGIN_VERSION;

	int Err = hp_md_asm_encode(&TU, FD.data(), FD.size(), VD.data(), VD.size(), &Text);
	hp_cmdline_release(&Cmd);
	if (Err) {
		reportError(M.getContext(),
			    Twine("cannot encode the .hotpatch record: ") + strerror(-Err));
		return;
	}
	M.appendModuleInlineAsm(Text);
	free(Text);
}

// A static function that every caller inlined is kept alive by nothing but
// our pin from pipeline start; plain clang deletes it. Deleting it here
// changes no other function: the pin already did its work (no pass used
// the function's body or changed its signature), and its code lives on in
// its inliners, which record it in their inline graph. It then has no
// record, like a static GCC inlines everywhere: mkpatch names it as an
// inlinee without a body of its own, and a patch that needs it compiles
// its own copy. Kept: what the source itself marked used, and anything
// assembly names (no IR use shows there).
static void dropInlinedStatics(Module &M, const ModuleState &S)
{
	std::vector<Function *> Dead;

	// A pin is F's only use: every call to F was inlined. (A pin in
	// llvm.used is the source's own, which UsedBySource keeps.)
	for (Function &F : M)
		if (isEmittedFunction(F) && F.hasLocalLinkage() &&
		    !S.UsedBySource.count(F.getName().str()) && all_of(F.users(), isUsedList) &&
		    !namedByAsm(F, S))
			Dead.push_back(&F);
	if (Dead.empty())
		return;
	std::set<Constant *> Drop(Dead.begin(), Dead.end());
	removeFromUsedLists(M, [&](Constant *C) { return Drop.count(C) != 0; });
	for (Function *F : Dead) {
		F->removeDeadConstantUsers(); // the old, replaced pin array
		if (F->use_empty())
			F->eraseFromParent();
	}
}

void finishModule(Module &M, ModuleState &S)
{
	std::vector<FuncRecord> Funcs;
	std::vector<VarRecord> Vars;
	std::vector<GlobalValue *> Pin;
	bool Endbr = cfProtectionBranch(M);

	if (S.Failed)
		return;
	dropInlinedStatics(M, S);
	if (S.PatchMode && !applyPatchSpec(M, S))
		return;
	for (Function &F : M) {
		if (!isEmittedFunction(F))
			continue;
		Funcs.emplace_back();
		describeFunction(F, S, Endbr, Funcs.back());
		Pin.push_back(&F);
	}
	for (GlobalVariable &GV : M.globals()) {
		if (!isRecordedVariable(GV))
			continue;
		Vars.emplace_back();
		describeVariable(GV, M, S, Vars.back());
		Pin.push_back(&GV);
	}
	for (auto &[Target, Slot] : S.Proxies) {
		Vars.emplace_back();
		VarRecord &R = Vars.back();
		R.Name = Target;
		R.Asm = asmName(*Slot);
		R.Size = M.getDataLayout().getPointerSize();
		R.Flags = HP_MD_VAR_PROXY;
		R.SourceName = Target;
		Pin.push_back(Slot);
	}
	// ".quad sym" in module asm needs sym to reach the object.
	appendToCompilerUsed(M, Pin);
	emitRecord(M, S, Funcs, Vars);
}

} // namespace hp
