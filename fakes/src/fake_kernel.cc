#include "netutil/fakes/fake_kernel.h"

namespace netutil::fakes {

// ForwardingSys only keeps a reference to front_, which is built before any
// call can reach it.
FakeKernel::FakeKernel(KernelConfig config)
    : ForwardingSys(static_cast<Sys&>(front_)), model_(std::move(config)), front_(model_) {
  // "after ... swap" rules act on this kernel's files, never the real ones.
  front_.set_swapper([this](const FsSwap& s) { return model_.fs().Swap(s); });
}

}  // namespace netutil::fakes
