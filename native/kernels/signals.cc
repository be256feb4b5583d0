// Keeping asynchronous signals away from threads that run oneDNN's JIT GEMM kernels. oneDNN up to 3.11 points
// the stack pointer of its generated f32 GEMM kernels into a heap workspace (uxlfoundation/oneDNN#4845, fixed by
// #4855), so a signal handled mid-kernel writes its frame into the heap and corrupts it. Node installs handlers
// for SIGPROF (--cpu-prof), SIGWINCH (a resized terminal) and any process.on('SIG...'), so without this a profiled
// or resized training run could abort in free(). Workers are started with every asynchronous signal blocked and
// keep that mask; the calling thread blocks them only around a GEMM, so pending signals arrive right after it.
#include <omp.h>
#include <pthread.h>
#include <signal.h>

#include <initializer_list>

#include "kernels/signals.h"

namespace aiayn {
namespace {

/** Every signal except the synchronous ones a fault raises (blocking those would hide the fault). */
sigset_t asynchronousSignals() {
  sigset_t set;
  sigfillset(&set);
  for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS}) sigdelset(&set, s);
  return set;
}

const sigset_t kAsynchronous = asynchronousSignals();

}  // namespace

SignalsHeld::SignalsHeld() { pthread_sigmask(SIG_BLOCK, &kAsynchronous, &saved_); }

SignalsHeld::~SignalsHeld() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

void startThreadTeam() {
  SignalsHeld held;  // threads created now inherit this mask
#pragma omp parallel
  {
  }
}

}  // namespace aiayn
