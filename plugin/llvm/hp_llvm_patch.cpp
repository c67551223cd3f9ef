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
//
// Constants the compiler made (private linkage: switch.table.f,
// __const.f.ctx) may hold addresses of old symbols; nothing can load a
// slot inside an initialiser. One that only dropped bodies used goes with
// them. One that kept code uses becomes a table of slots: writable (never
// written by code: it was a constant), in hotpatch_proxy, each entry that
// pointed at an old symbol holding its offset into that symbol and
// described by a proxy record naming it through an alias
// "__hp_entry.TABLE.OFFSET". mkpatch adds the offset to the target's
// address; the runtime fills the entry like any slot before the patch can
// run.
#include "hp_llvm.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/GlobalAlias.h"
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

// An unsafe change, not a failed compile: mkpatch reads the spec's
// refusals file and exits 3 naming the culprit.
static void reportRefusal(Module &M, ModuleState &S, const std::string &Why)
{
	std::string Line = Why;
	size_t Open = Line.find('\'');
	size_t Close = Open == std::string::npos ? Open : Line.find('\'', Open + 1);
	if (Close != std::string::npos) // "'culprit' (tu.c) ..."
		Line.insert(Close + 1, " (" + M.getSourceFileName() + ")");
	if (int Err = hp_patch_spec_refuse(&S.Spec, Line.c_str()))
		reportError(M.getContext(), "cannot write the refusals file '" +
						    std::string(S.Spec.refusals_path) +
						    "': " + strerror(-Err));
	reportError(M.getContext(), Why);
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

// A constant the compiler made for one function's code: the source never
// names it, so no other TU and no metadata refers to it.
static bool isCompilerMadeConstant(const GlobalVariable &GV)
{
	return GV.hasPrivateLinkage() && GV.isConstant() && GV.hasInitializer();
}

// The globals (variables, aliases) whose initialisers or aliasees hold the
// constant C, through arrays, structs and constant expressions.
static std::vector<GlobalValue *> initialiserOwners(User *C)
{
	std::vector<User *> Work{C};
	std::set<User *> Seen;
	std::vector<GlobalValue *> Owners;

	while (!Work.empty()) {
		User *U = Work.back();
		Work.pop_back();
		if (!Seen.insert(U).second)
			continue;
		if (auto *GV = dyn_cast<GlobalValue>(U)) {
			Owners.push_back(GV);
			continue;
		}
		for (User *Up : U->users())
			Work.push_back(Up);
	}
	return Owners;
}

// Dropped bodies leave the constants only they used without uses; those
// must not reach the package, which has no value for the old symbols they
// name. Repeat: a table can be the only user of another.
static void dropUnusedCompilerData(Module &M)
{
	for (bool Changed = true; Changed;) {
		Changed = false;
		for (GlobalVariable &GV : make_early_inc_range(M.globals())) {
			if (!isCompilerMadeConstant(GV))
				continue;
			GV.removeDeadConstantUsers();
			if (GV.use_empty()) {
				GV.eraseFromParent();
				Changed = true;
			}
		}
	}
}

// Every use of Target by an instruction becomes a load of its slot;
// compiler-made constants that hold it are collected into Tables.
static bool redirectUses(Module &M, ModuleState &S, GlobalValue *Target,
			 std::set<GlobalVariable *> &Tables)
{
	std::string Name = Target->getName().str();
	LLVMContext &Ctx = M.getContext();

	if (auto *GV = dyn_cast<GlobalVariable>(Target); GV && GV->isThreadLocal()) {
		reportRefusal(M, S,
			      "thread-local variable '" + Name +
				      "' cannot go through a proxy slot");
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
			for (GlobalValue *Owner : initialiserOwners(U.getUser())) {
				auto *Var = dyn_cast<GlobalVariable>(Owner);
				if (Var && isCompilerMadeConstant(*Var)) {
					Tables.insert(Var);
					continue;
				}
				reportRefusal(
					M, S,
					"'" + Owner->getName().str() + "' refers to '" + Name +
						"' in a global initialiser: "
						"an old symbol there cannot go through a proxy "
						"slot");
				return false;
			}
			continue;
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

// ---- compiler-made tables of old addresses ------------------------------

struct TableEntry {
	uint64_t Offset;     // in the table
	GlobalValue *Target; // the old symbol the entry points into
	int64_t Addend;	     // bytes past Target's address
};

static bool refersToTarget(const Constant *C, const std::set<GlobalValue *> &Targets,
			   std::set<const Constant *> &Seen)
{
	if (auto *GV = dyn_cast<GlobalValue>(C))
		return Targets.count(const_cast<GlobalValue *>(GV));
	if (!Seen.insert(C).second)
		return false;
	for (const Use &Op : C->operands())
		if (auto *OC = dyn_cast<Constant>(Op.get());
		    OC && refersToTarget(OC, Targets, Seen))
			return true;
	return false;
}

static uint64_t elementOffset(const DataLayout &DL, Type *Ty, unsigned I)
{
	if (auto *ST = dyn_cast<StructType>(Ty))
		return DL.getStructLayout(ST)->getElementOffset(I);
	Type *Elem = isa<ArrayType>(Ty) ? Ty->getArrayElementType()
					: cast<VectorType>(Ty)->getElementType();
	return I * DL.getTypeAllocSize(Elem);
}

// C at byte Offset of its table, with every 8-byte, 8-aligned leaf that is
// "old symbol + constant" (a pointer, or its ptrtoint) replaced by the
// constant, and one entry recorded per leaf. Null when an old symbol
// appears in another form (a relative table's difference of addresses, a
// misaligned field): a slot cannot express it.
static Constant *stripTargets(Constant *C, uint64_t Offset, const DataLayout &DL,
			      const std::set<GlobalValue *> &Targets, std::vector<TableEntry> &Out)
{
	std::set<const Constant *> Seen;
	if (!refersToTarget(C, Targets, Seen))
		return C;
	if (auto *CA = dyn_cast<ConstantAggregate>(C)) {
		std::vector<Constant *> Ops;
		for (unsigned I = 0; I < CA->getNumOperands(); I++) {
			Constant *E = stripTargets(CA->getOperand(I),
						   Offset + elementOffset(DL, C->getType(), I), DL,
						   Targets, Out);
			if (!E)
				return nullptr;
			Ops.push_back(E);
		}
		if (auto *ST = dyn_cast<StructType>(C->getType()))
			return ConstantStruct::get(ST, Ops);
		if (auto *AT = dyn_cast<ArrayType>(C->getType()))
			return ConstantArray::get(AT, Ops);
		return ConstantVector::get(Ops);
	}
	Type *Ty = C->getType();
	if (DL.getTypeAllocSize(Ty) != 8 || Offset % 8 || !(Ty->isPointerTy() || Ty->isIntegerTy()))
		return nullptr;
	Constant *Ptr = C;
	if (auto *CE = dyn_cast<ConstantExpr>(C); CE && CE->getOpcode() == Instruction::PtrToInt)
		Ptr = CE->getOperand(0);
	if (!Ptr->getType()->isPointerTy())
		return nullptr;
	APInt Addend(64, 0);
	auto *Base = dyn_cast<GlobalValue>(const_cast<Value *>(
		Ptr->stripAndAccumulateConstantOffsets(DL, Addend, /*AllowNonInbounds=*/true)));
	if (!Base || !Targets.count(Base))
		return nullptr;
	Out.push_back({Offset, Base, Addend.getSExtValue()});
	Constant *Value = ConstantInt::get(Type::getInt64Ty(C->getContext()), Addend);
	return Ty->isPointerTy() ? ConstantExpr::getIntToPtr(Value, Ty) : Value;
}

// The compiler-made constant T that kept code uses becomes a table of slots.
static bool makeSlotTable(Module &M, ModuleState &S, GlobalVariable *T,
			  const std::set<GlobalValue *> &Targets)
{
	const DataLayout &DL = M.getDataLayout();
	std::vector<TableEntry> Entries;
	Constant *Init = stripTargets(T->getInitializer(), 0, DL, Targets, Entries);

	if (!Init) {
		std::string Name = "an old symbol";
		for (GlobalValue *G : Targets) {
			std::set<const Constant *> Seen;
			if (refersToTarget(T->getInitializer(), {G}, Seen)) {
				Name = "'" + G->getName().str() + "'";
				break;
			}
		}
		reportRefusal(M, S,
			      "compiler-made table '" + T->getName().str() + "' holds " + Name +
				      " in a form a proxy slot cannot fill (not a pointer-sized, "
				      "aligned address)");
		return false;
	}
	T->setInitializer(Init);
	T->setConstant(false);
	T->setExternallyInitialized(true); // nothing may fold its entries
	T->setUnnamedAddr(GlobalValue::UnnamedAddr::None);
	T->setSection(ProxySection);
	if (T->getAlign().valueOrOne() < Align(8))
		T->setAlignment(Align(8));
	Type *I8 = Type::getInt8Ty(M.getContext());
	for (const TableEntry &E : Entries) {
		Constant *At = ConstantExpr::getGetElementPtr(
			I8, T, ConstantInt::get(Type::getInt64Ty(M.getContext()), E.Offset));
		auto *Entry = GlobalAlias::create(
			PointerType::getUnqual(M.getContext()), 0, GlobalValue::InternalLinkage,
			"__hp_entry." + T->getName() + "." + Twine(E.Offset), At, &M);
		S.Proxies.push_back({E.Target->getName().str(), Entry});
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
	dropUnusedCompilerData(M);
	std::set<GlobalVariable *> Tables;
	for (GlobalValue *T : Targets)
		if (!redirectUses(M, S, T, Tables))
			return false;
	std::set<GlobalValue *> TargetSet(Targets.begin(), Targets.end());
	for (GlobalVariable *T : Tables)
		if (!makeSlotTable(M, S, T, TargetSet))
			return false;
	for (GlobalValue *T : Targets) {
		T->removeDeadConstantUsers();
		if (T->isDeclaration() && T->use_empty())
			T->eraseFromParent();
	}
	return true;
}

} // namespace hp
