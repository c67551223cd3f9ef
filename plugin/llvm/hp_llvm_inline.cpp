// Recording the inliner's decisions.
//
// A plugin inline advisor wraps LLVM's default one: every decision stays
// the default's, and each successful inlining is noted as (caller,
// callee) in the module state. Unlike debug info's inlinedAt this works
// without -g, and unlike comparing calls before and after it sees a callee
// inlined at one call site but still called at another.
#include "hp_llvm.h"

#include "llvm/Analysis/InlineAdvisor.h"
#include "llvm/Analysis/OptimizationRemarkEmitter.h"
#include "llvm/Passes/PassBuilder.h"

using namespace llvm;

namespace hp
{
namespace
{

// The factory LLVM calls is a plain function pointer, so the state it
// reports to is reached through this; one module per compile.
std::weak_ptr<ModuleState> CurrentState;

class RecordingAdvice : public InlineAdvice
{
      public:
	RecordingAdvice(InlineAdvisor *Advisor, CallBase &CB, OptimizationRemarkEmitter &ORE,
			std::unique_ptr<InlineAdvice> Inner)
	    : InlineAdvice(Advisor, CB, ORE, Inner->isInliningRecommended()),
	      Inner(std::move(Inner)), CallerName(CB.getCaller()->getName().str()),
	      CalleeName(CB.getCalledFunction() ? CB.getCalledFunction()->getName().str() : "")
	{
	}

      private:
	void note()
	{
		if (auto S = CurrentState.lock(); S && !CalleeName.empty())
			S->Inlined.insert({CallerName, CalleeName});
	}
	void recordInliningImpl() override
	{
		note();
		Inner->recordInlining();
	}
	void recordInliningWithCalleeDeletedImpl() override
	{
		note();
		Inner->recordInliningWithCalleeDeleted();
	}
	void recordUnsuccessfulInliningImpl(const InlineResult &R) override
	{
		Inner->recordUnsuccessfulInlining(R);
	}
	void recordUnattemptedInliningImpl() override
	{
		Inner->recordUnattemptedInlining();
	}

	std::unique_ptr<InlineAdvice> Inner;
	std::string CallerName, CalleeName;
};

class RecordingAdvisor : public InlineAdvisor
{
      public:
	RecordingAdvisor(Module &M, FunctionAnalysisManager &FAM, InlineParams Params,
			 InlineContext IC)
	    : InlineAdvisor(M, FAM, IC),
	      Inner(std::make_unique<DefaultInlineAdvisor>(M, FAM, Params, IC))
	{
	}

	void onPassEntry(LazyCallGraph::SCC *SCC) override
	{
		Inner->onPassEntry(SCC);
	}
	void onPassExit(LazyCallGraph::SCC *SCC) override
	{
		Inner->onPassExit(SCC);
	}

      private:
	std::unique_ptr<InlineAdvice> wrap(CallBase &CB, std::unique_ptr<InlineAdvice> A)
	{
		if (!A)
			return A;
		return std::make_unique<RecordingAdvice>(this, CB, getCallerORE(CB), std::move(A));
	}
	std::unique_ptr<InlineAdvice> getAdviceImpl(CallBase &CB) override
	{
		return wrap(CB, Inner->getAdvice(CB, false));
	}
	std::unique_ptr<InlineAdvice> getMandatoryAdvice(CallBase &CB, bool) override
	{
		return wrap(CB, Inner->getAdvice(CB, true));
	}

	std::unique_ptr<InlineAdvisor> Inner;
};

InlineAdvisor *createAdvisor(Module &M, FunctionAnalysisManager &FAM, InlineParams Params,
			     InlineContext IC)
{
	return new RecordingAdvisor(M, FAM, Params, IC);
}

} // namespace

void registerInlineRecorder(PassBuilder &PB, std::shared_ptr<ModuleState> S)
{
	CurrentState = S;
	PB.registerAnalysisRegistrationCallback([](ModuleAnalysisManager &MAM) {
		MAM.registerPass([] { return PluginInlineAdvisorAnalysis(createAdvisor); });
	});
}

} // namespace hp
