// Canonical hash of post-optimisation IR.
//
// The walk sees what decides the machine code and nothing else: opcodes,
// types, flags, attributes by content, constants by value, local values by
// position, globals by name. Debug records, !dbg/!tbaa attachments, value
// names and metadata numbering are ignored, so inserting a line above a
// function or adding an unrelated function leaves its hash alone. Private
// constants (string literals ".str.N", "switch.table.f", "__const.f.x") are
// hashed by content: clang numbers them in file order, so their names
// shift when unrelated code adds a literal.
//
// One more thing is kept out: __FILE__ and __LINE__ passed together to a
// call (assert's __assert_fail, a log macro): an integer argument equal to
// the call's own source line (or that of a call it was inlined from), in a
// call that also passes that line's source file name as a string. A line inserted above would
// otherwise change every such function below it. Those numbers go into a separate line hash
// instead, so mkpatch can tell "only line numbers changed" from unchanged
// and from changed. An argument that equals its line in one build and not
// in the other hashes differently (marker vs. value), and the file name
// must be there too, so a real change is not taken for a line number.
// Needs line information (-g or -gline-tables-only): without it every
// constant counts as code.
#include "hp_llvm.h"

#include "hp_hash.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/DebugInfoMetadata.h"
#include "llvm/IR/InlineAsm.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/Metadata.h"
#include "llvm/IR/Operator.h"

#include <algorithm>

using namespace llvm;

namespace hp
{
namespace
{

enum Tag : uint64_t {
	TagNull = 1,
	TagArg,
	TagLocal,
	TagGlobalName,
	TagGlobalContent,
	TagGlobalRecursive,
	TagConst,
	TagAsm,
	TagMD,
	TagOther,
	TagStruct,
	TagStructSeen,
	TagAttr,
	TagBlock,
	TagLine,
};

class IRHasher
{
      public:
	explicit IRHasher(uint64_t Seed)
	{
		hp_hash_init(&H, Seed);
	}

	uint64_t final() const
	{
		return hp_hash_final(&H);
	}
	// 0 when the body passes no line number to a call
	uint32_t lineFinal() const
	{
		if (!Lines)
			return 0;
		uint64_t V = hp_hash_final(&LineH);
		return static_cast<uint32_t>(V ^ (V >> 32)) | 1;
	}

	void u64(uint64_t V)
	{
		hp_hash_u64(&H, V);
	}
	void str(StringRef S)
	{
		hp_hash_bytes(&H, S.data(), S.size());
	}

	void type(Type *T);
	void value(const Value *V);
	void constant(const Constant *C);
	void attributes(AttributeList AL);
	void instruction(const Instruction &I);
	void function(const Function &F);

      private:
	void apint(const APInt &A);
	void globalRef(const GlobalValue *GV);
	void metadata(const Metadata *MD);
	void callSite(const CallBase &CB);
	void memoryOp(const Instruction &I);
	bool lineArgument(const Instruction &I, const Use &U);

	hp_hash H;
	hp_hash LineH = {};
	unsigned Lines = 0;
	DenseMap<const Value *, unsigned> Local;
	DenseMap<const StructType *, unsigned> Structs;
	SmallPtrSet<const GlobalVariable *, 8> InProgress;
};

void IRHasher::type(Type *T)
{
	u64(T->getTypeID());
	if (auto *IT = dyn_cast<IntegerType>(T))
		return u64(IT->getBitWidth());
	if (auto *PT = dyn_cast<PointerType>(T))
		return u64(PT->getAddressSpace());
	if (auto *AT = dyn_cast<ArrayType>(T)) {
		u64(AT->getNumElements());
		return type(AT->getElementType());
	}
	if (auto *VT = dyn_cast<VectorType>(T)) {
		u64(VT->getElementCount().getKnownMinValue());
		u64(VT->getElementCount().isScalable());
		return type(VT->getElementType());
	}
	if (auto *FT = dyn_cast<FunctionType>(T)) {
		u64(FT->isVarArg());
		u64(FT->getNumParams());
		type(FT->getReturnType());
		for (Type *P : FT->params())
			type(P);
		return;
	}
	if (auto *ST = dyn_cast<StructType>(T)) {
		// Named structs by layout, not by name: clang renames
		// "struct.foo" to "struct.foo.0" when another type takes the name.
		auto It = Structs.find(ST);
		if (It != Structs.end()) {
			u64(TagStructSeen);
			return u64(It->second);
		}
		Structs[ST] = Structs.size();
		u64(TagStruct);
		u64(ST->isPacked());
		u64(ST->isOpaque());
		u64(ST->getNumElements());
		for (Type *E : ST->elements())
			type(E);
		return;
	}
	if (auto *TT = dyn_cast<TargetExtType>(T))
		str(TT->getName());
}

void IRHasher::apint(const APInt &A)
{
	u64(A.getBitWidth());
	for (unsigned I = 0; I < A.getNumWords(); I++)
		u64(A.getRawData()[I]);
}

void IRHasher::globalRef(const GlobalValue *GV)
{
	auto *Var = dyn_cast<GlobalVariable>(GV);

	if (Var && Var->hasPrivateLinkage() && Var->hasInitializer()) {
		if (!InProgress.insert(Var).second)
			return u64(TagGlobalRecursive);
		u64(TagGlobalContent);
		u64(Var->isConstant());
		u64(Var->isThreadLocal());
		u64(Var->getAlign() ? Var->getAlign()->value() : 0);
		type(Var->getValueType());
		constant(Var->getInitializer());
		InProgress.erase(Var);
		return;
	}
	u64(TagGlobalName);
	str(GV->getName());
}

void IRHasher::constant(const Constant *C)
{
	if (auto *GV = dyn_cast<GlobalValue>(C))
		return globalRef(GV);
	u64(TagConst);
	u64(C->getValueID());
	type(C->getType());
	if (auto *CI = dyn_cast<ConstantInt>(C))
		return apint(CI->getValue());
	if (auto *CF = dyn_cast<ConstantFP>(C))
		return apint(CF->getValueAPF().bitcastToAPInt());
	if (auto *CDS = dyn_cast<ConstantDataSequential>(C))
		return str(CDS->getRawDataValues());
	if (auto *BA = dyn_cast<BlockAddress>(C)) {
		unsigned Index = 0;
		for (const BasicBlock &BB : *BA->getFunction()) {
			if (&BB == BA->getBasicBlock())
				break;
			Index++;
		}
		str(BA->getFunction()->getName());
		return u64(Index);
	}
	if (auto *E = dyn_cast<DSOLocalEquivalent>(C))
		return globalRef(E->getGlobalValue());
	if (auto *E = dyn_cast<NoCFIValue>(C))
		return globalRef(E->getGlobalValue());
	if (auto *CE = dyn_cast<ConstantExpr>(C)) {
		u64(CE->getOpcode());
		u64(CE->getRawSubclassOptionalData());
		if (auto *GEP = dyn_cast<GEPOperator>(CE))
			type(GEP->getSourceElementType());
	}
	u64(C->getNumOperands());
	for (const Use &U : C->operands())
		value(U.get());
}

void IRHasher::metadata(const Metadata *MD)
{
	u64(TagMD);
	if (auto *S = dyn_cast_or_null<MDString>(MD))
		return str(S->getString());
	if (auto *V = dyn_cast_or_null<ValueAsMetadata>(MD))
		return value(V->getValue());
	u64(MD ? MD->getMetadataID() : 0);
}

void IRHasher::value(const Value *V)
{
	if (!V)
		return u64(TagNull);
	if (auto *A = dyn_cast<Argument>(V)) {
		u64(TagArg);
		return u64(A->getArgNo());
	}
	if (isa<Instruction>(V) || isa<BasicBlock>(V)) {
		auto It = Local.find(V);
		u64(TagLocal);
		return u64(It == Local.end() ? ~0ull : It->second);
	}
	if (auto *C = dyn_cast<Constant>(V))
		return constant(C);
	if (auto *IA = dyn_cast<InlineAsm>(V)) {
		u64(TagAsm);
		str(IA->getAsmString());
		str(IA->getConstraintString());
		u64(IA->hasSideEffects());
		u64(IA->isAlignStack());
		u64(IA->getDialect());
		u64(IA->canThrow());
		return type(IA->getFunctionType());
	}
	if (auto *MV = dyn_cast<MetadataAsValue>(V))
		return metadata(MV->getMetadata());
	u64(TagOther);
	u64(V->getValueID());
}

// Attributes by their text, sorted: attribute-group numbers (#3) and the
// order attributes were added in do not matter. Our own padding
// attributes are left out so patch and base builds hash alike.
void IRHasher::attributes(AttributeList AL)
{
	for (unsigned Idx : AL.indexes()) {
		AttributeSet AS = AL.getAttributes(Idx);
		std::vector<std::string> Text;

		if (!AS.hasAttributes())
			continue;
		for (const Attribute &A : AS) {
			if (A.isStringAttribute() &&
			    A.getKindAsString().starts_with("patchable-function"))
				continue;
			if (A.hasAttribute(Attribute::Alignment) &&
			    Idx == AttributeList::FunctionIndex)
				continue;
			Text.push_back(A.getAsString());
		}
		std::sort(Text.begin(), Text.end());
		u64(TagAttr);
		u64(Idx);
		for (const std::string &T : Text)
			str(T);
	}
}

void IRHasher::callSite(const CallBase &CB)
{
	u64(CB.getCallingConv());
	type(CB.getFunctionType());
	attributes(CB.getAttributes());
	if (auto *CI = dyn_cast<CallInst>(&CB))
		u64(CI->getTailCallKind());
	u64(CB.getNumOperandBundles());
	for (unsigned I = 0; I < CB.getNumOperandBundles(); I++)
		str(CB.getOperandBundleAt(I).getTagName());
}

void IRHasher::memoryOp(const Instruction &I)
{
	if (auto *LI = dyn_cast<LoadInst>(&I)) {
		u64(LI->getAlign().value());
		u64(LI->isVolatile());
		u64(static_cast<uint64_t>(LI->getOrdering()));
		u64(LI->getSyncScopeID());
	} else if (auto *SI = dyn_cast<StoreInst>(&I)) {
		u64(SI->getAlign().value());
		u64(SI->isVolatile());
		u64(static_cast<uint64_t>(SI->getOrdering()));
		u64(SI->getSyncScopeID());
	} else if (auto *AI = dyn_cast<AllocaInst>(&I)) {
		type(AI->getAllocatedType());
		u64(AI->getAlign().value());
	} else if (auto *RMW = dyn_cast<AtomicRMWInst>(&I)) {
		u64(RMW->getOperation());
		u64(static_cast<uint64_t>(RMW->getOrdering()));
		u64(RMW->isVolatile());
		u64(RMW->getAlign().value());
		u64(RMW->getSyncScopeID());
	} else if (auto *CX = dyn_cast<AtomicCmpXchgInst>(&I)) {
		u64(static_cast<uint64_t>(CX->getSuccessOrdering()));
		u64(static_cast<uint64_t>(CX->getFailureOrdering()));
		u64(CX->isWeak());
		u64(CX->isVolatile());
		u64(CX->getAlign().value());
		u64(CX->getSyncScopeID());
	} else if (auto *FI = dyn_cast<FenceInst>(&I)) {
		u64(static_cast<uint64_t>(FI->getOrdering()));
		u64(FI->getSyncScopeID());
	}
}

void IRHasher::instruction(const Instruction &I)
{
	u64(I.getOpcode());
	type(I.getType());
	u64(I.getRawSubclassOptionalData()); // nsw/nuw/exact/inbounds, fast-math
	if (auto *Cmp = dyn_cast<CmpInst>(&I))
		u64(Cmp->getPredicate());
	if (auto *GEP = dyn_cast<GetElementPtrInst>(&I))
		type(GEP->getSourceElementType());
	if (auto *CB = dyn_cast<CallBase>(&I))
		callSite(*CB);
	memoryOp(I);
	if (auto *Phi = dyn_cast<PHINode>(&I))
		for (const BasicBlock *BB : Phi->blocks())
			value(BB);
	if (auto *SV = dyn_cast<ShuffleVectorInst>(&I))
		for (int M : SV->getShuffleMask())
			u64(static_cast<uint64_t>(M));
	if (auto *EV = dyn_cast<ExtractValueInst>(&I))
		for (unsigned Idx : EV->indices())
			u64(Idx);
	if (auto *IV = dyn_cast<InsertValueInst>(&I))
		for (unsigned Idx : IV->indices())
			u64(Idx);
	if (auto *LP = dyn_cast<LandingPadInst>(&I))
		u64(LP->isCleanup());
	u64(I.getNumOperands());
	for (const Use &U : I.operands())
		if (!lineArgument(I, U))
			value(U.get());
}

// A call argument equal to the call's source line: hashed as "a line
// number" here and by value into the line hash.
static bool passesFileName(const CallBase &CB, StringRef File)
{
	for (const Use &A : CB.args()) {
		auto *GV = dyn_cast<GlobalVariable>(A.get()->stripPointerCasts());
		if (!GV || !GV->isConstant() || !GV->hasInitializer())
			continue;
		auto *Text = dyn_cast<ConstantDataSequential>(GV->getInitializer());
		if (Text && Text->isCString() && Text->getAsCString() == File)
			return true;
	}
	return false;
}

bool IRHasher::lineArgument(const Instruction &I, const Use &U)
{
	auto *CB = dyn_cast<CallBase>(&I);
	auto *CI = dyn_cast<ConstantInt>(U.get());
	const DebugLoc &Loc = I.getDebugLoc();

	if (!CB || !CI || !CB->isArgOperand(&U) || !Loc || CI->getBitWidth() > 64)
		return false;
	// The call's own line, or the line of a call it was inlined from: a
	// log helper inlined into its caller passes the caller's __LINE__.
	const DILocation *At = Loc.get();
	while (At && !(At->getLine() && CI->getZExtValue() == At->getLine() &&
		       passesFileName(*CB, At->getFilename())))
		At = At->getInlinedAt();
	if (!At)
		return false;
	if (!Lines++)
		hp_hash_init(&LineH, 0x6c696e65); // "line"
	hp_hash_u64(&LineH, CI->getZExtValue());
	u64(TagLine);
	u64(CI->getBitWidth());
	return true;
}

static bool isIgnored(const Instruction &I)
{
	return isa<DbgInfoIntrinsic>(I) || isa<PseudoProbeInst>(I);
}

void IRHasher::function(const Function &F)
{
	unsigned N = 0;

	// Number blocks and instructions first: operands may refer forward.
	for (const BasicBlock &BB : F) {
		Local[&BB] = N++;
		for (const Instruction &I : BB)
			if (!isIgnored(I))
				Local[&I] = N++;
	}
	type(F.getFunctionType());
	u64(F.getCallingConv());
	attributes(F.getAttributes());
	str(F.getSection());
	str(F.hasGC() ? F.getGC() : "");
	value(F.hasPersonalityFn() ? F.getPersonalityFn() : nullptr);
	for (const BasicBlock &BB : F) {
		u64(TagBlock);
		for (const Instruction &I : BB)
			if (!isIgnored(I))
				instruction(I);
	}
}

} // namespace

uint64_t hashFunction(const Function &F, uint32_t *LineHash)
{
	IRHasher H(0x66756e63); // "func"

	H.function(F);
	if (LineHash)
		*LineHash = H.lineFinal();
	return H.final();
}

uint64_t hashInitializer(const GlobalVariable &GV)
{
	IRHasher H(0x76617220); // "var "

	if (!GV.hasInitializer() || GV.getInitializer()->isNullValue())
		return 0;
	H.type(GV.getValueType());
	H.constant(GV.getInitializer());
	return H.final();
}

static void collectConstantRefs(const Constant *C, std::set<const Function *> &Funcs,
				std::set<const GlobalVariable *> &Vars,
				SmallPtrSetImpl<const Constant *> &Seen)
{
	if (!Seen.insert(C).second)
		return;
	if (auto *F = dyn_cast<Function>(C)) {
		Funcs.insert(F);
		return;
	}
	if (auto *GV = dyn_cast<GlobalVariable>(C)) {
		if (!GV->hasPrivateLinkage()) {
			Vars.insert(GV);
			return;
		}
		// a private table (switch.table.f) stands for what it holds
		if (GV->hasInitializer())
			collectConstantRefs(GV->getInitializer(), Funcs, Vars, Seen);
		return;
	}
	if (auto *GA = dyn_cast<GlobalAlias>(C)) {
		collectConstantRefs(GA->getAliasee(), Funcs, Vars, Seen);
		return;
	}
	for (const Use &U : C->operands())
		if (auto *Op = dyn_cast<Constant>(U.get()))
			collectConstantRefs(Op, Funcs, Vars, Seen);
}

void collectRefs(const Function &F, std::set<const Function *> &Funcs,
		 std::set<const GlobalVariable *> &Vars)
{
	SmallPtrSet<const Constant *, 32> Seen;

	for (const BasicBlock &BB : F)
		for (const Instruction &I : BB) {
			if (isIgnored(I))
				continue;
			for (const Use &U : I.operands())
				if (auto *C = dyn_cast<Constant>(U.get()))
					collectConstantRefs(C, Funcs, Vars, Seen);
		}
}

} // namespace hp
