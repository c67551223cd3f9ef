// Patch mode (docs/patch-mode.md), applied at the end of the pipeline so
// the kept bodies are exactly the post-optimisation bodies of NEW.
//
//   keep NAME      body kept
//   old-func NAME  body dropped unless kept; every use goes through a slot
//   old-var NAME   definition dropped; every use goes through a slot
//
// A slot is "@__hp_proxy.NAME = internal externally_initialized global ptr
// null, section hotpatch_proxy"; the runtime fills it with the running
// image's address of NAME. A use becomes "load ptr, ptr @slot" followed by
// the use of the loaded pointer.
#include "hp_llvm.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/ReplaceConstant.h"

using namespace llvm;

namespace hp
{

static const char ProxySection[] = "hotpatch_proxy";

static unsigned specKinds(const ModuleState &S, const GlobalValue &GV)
{
	return hp_patch_spec_lookup(&S.Spec, GV.getName().str().c_str());
}

// Which globals are reached through slots, and drop what OLD already has.
static std::vector<GlobalValue *> selectTargets(Module &M, ModuleState &S)
{
	std::vector<GlobalValue *> Targets;

	for (Function &F : M) {
		unsigned K = specKinds(S, F);
		if (!(K & HP_SPEC_OLD_FUNC))
			continue;
		if (!F.isDeclaration() && !(K & HP_SPEC_KEEP)) {
			F.deleteBody();
			F.setLinkage(GlobalValue::ExternalLinkage);
			F.setComdat(nullptr);
		}
		Targets.push_back(&F);
	}
	for (GlobalVariable &GV : M.globals()) {
		if (!(specKinds(S, GV) & HP_SPEC_OLD_VAR))
			continue;
		if (!GV.isDeclaration()) {
			GV.setInitializer(nullptr);
			GV.setLinkage(GlobalValue::ExternalLinkage);
			GV.setComdat(nullptr);
		}
		Targets.push_back(&GV);
	}
	return Targets;
}

// The point where a load of the slot must happen for a use by I.
static Instruction *insertionPoint(Use &U, Instruction *I)
{
	if (auto *Phi = dyn_cast<PHINode>(I))
		return Phi->getIncomingBlock(U)->getTerminator();
	return I;
}

// The global whose initialiser holds the constant C (through arrays,
// structs and constant expressions), for the message.
static std::string initialiserOwner(const User *C)
{
	std::vector<const User *> Work{C};
	std::set<const User *> Seen;

	while (!Work.empty()) {
		const User *U = Work.back();
		Work.pop_back();
		if (!Seen.insert(U).second)
			continue;
		if (auto *GV = dyn_cast<GlobalValue>(U))
			return GV->getName().str();
		for (const User *Up : U->users())
			Work.push_back(Up);
	}
	return "a constant";
}

static bool redirectUses(Module &M, ModuleState &S, GlobalValue *Target)
{
	std::string Name = Target->getName().str();
	LLVMContext &Ctx = M.getContext();

	if (auto *GV = dyn_cast<GlobalVariable>(Target); GV && GV->isThreadLocal()) {
		reportError(Ctx,
			    "thread-local variable '" + Name + "' cannot go through a proxy slot");
		return false;
	}
	// constant expressions (GEPs into a global, casts) become instructions
	convertUsersOfConstantsToInstructions({Target});

	GlobalVariable *Slot = nullptr;
	for (Use &U : make_early_inc_range(Target->uses())) {
		auto *I = dyn_cast<Instruction>(U.getUser());
		if (!I) {
			if (auto *GV = dyn_cast<GlobalVariable>(U.getUser());
			    GV && GV->getName().starts_with("llvm."))
				continue;
			std::string User = initialiserOwner(U.getUser());
			reportError(Ctx,
				    "'" + User + "' refers to '" + Name +
					    "' in a global initialiser: "
					    "an old symbol there cannot go through a proxy slot");
			return false;
		}
		if (!Slot) {
			Slot = new GlobalVariable(
				M, PointerType::getUnqual(Ctx), false, GlobalValue::InternalLinkage,
				ConstantPointerNull::get(PointerType::getUnqual(Ctx)),
				"__hp_proxy." + Name);
			Slot->setSection(ProxySection);
			Slot->setExternallyInitialized(true);
			Slot->setAlignment(Align(8));
			S.Proxies.push_back({Name, Slot});
		}
		IRBuilder<> B(insertionPoint(U, I));
		U.set(B.CreateLoad(PointerType::getUnqual(Ctx), Slot, "hp.proxy"));
	}
	return true;
}

// llvm.compiler.used from pipeline start names bodies we drop; finishModule
// builds it again from what stays.
static void dropCompilerUsed(Module &M)
{
	if (GlobalVariable *Used = M.getGlobalVariable("llvm.compiler.used"))
		Used->eraseFromParent();
}

bool applyPatchSpec(Module &M, ModuleState &S)
{
	dropCompilerUsed(M);
	std::vector<GlobalValue *> Targets = selectTargets(M, S);
	for (GlobalValue *T : Targets)
		if (!redirectUses(M, S, T))
			return false;
	for (GlobalValue *T : Targets)
		if (T->isDeclaration() && T->use_empty())
			T->eraseFromParent();
	return true;
}

} // namespace hp
