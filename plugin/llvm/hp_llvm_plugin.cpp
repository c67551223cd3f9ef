// Entry point of hotpatch-llvm.so: registers the passes, nothing else.
#include "hp_llvm.h"

#include "llvm/Passes/PassBuilder.h"
#include "llvm/Passes/PassPlugin.h"

#include <memory>

using namespace llvm;

namespace
{

struct StartPass : PassInfoMixin<StartPass> {
	std::shared_ptr<hp::ModuleState> S;
	PreservedAnalyses run(Module &M, ModuleAnalysisManager &)
	{
		hp::startModule(M, *S);
		return PreservedAnalyses::none();
	}
	static bool isRequired()
	{
		return true;
	}
};

struct FinishPass : PassInfoMixin<FinishPass> {
	std::shared_ptr<hp::ModuleState> S;
	PreservedAnalyses run(Module &M, ModuleAnalysisManager &)
	{
		hp::finishModule(M, *S);
		return PreservedAnalyses::none();
	}
	static bool isRequired()
	{
		return true;
	}
};

void registerCallbacks(PassBuilder &PB)
{
	auto S = std::make_shared<hp::ModuleState>();

	hp::registerInlineRecorder(PB, S);
	PB.registerPipelineStartEPCallback([S](ModulePassManager &MPM, OptimizationLevel) {
		MPM.addPass(StartPass{{}, S});
	});
	PB.registerOptimizerLastEPCallback([S](ModulePassManager &MPM, OptimizationLevel) {
		MPM.addPass(FinishPass{{}, S});
	});
}

} // namespace

extern "C" __attribute__((visibility("default"))) LLVM_ATTRIBUTE_WEAK PassPluginLibraryInfo
llvmGetPassPluginInfo()
{
	return {LLVM_PLUGIN_API_VERSION, "hotpatch", HP_PLUGIN_VERSION, registerCallbacks};
}
