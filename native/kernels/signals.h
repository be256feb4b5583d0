// Keeping asynchronous signals away from threads that run oneDNN's JIT GEMM kernels (see signals.cc).
#pragma once

#include <signal.h>

namespace aiayn {

/** Blocks asynchronous signals on the calling thread while alive (see signals.cc: oneDNN's GEMM kernels). */
class SignalsHeld {
 public:
  SignalsHeld();
  ~SignalsHeld();
  SignalsHeld(const SignalsHeld&) = delete;
  SignalsHeld& operator=(const SignalsHeld&) = delete;

 private:
  sigset_t saved_;
};

/** Creates the OpenMP worker threads (up to the current thread count) with asynchronous signals blocked. */
void startThreadTeam();

}  // namespace aiayn
