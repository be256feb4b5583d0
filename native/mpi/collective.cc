// The optional aiayn_mpi addon: a small binding of MPI's collectives (Open MPI or any MPI-3 library) for
// data-parallel training (src/train/distributed.ts). Every collective is non-blocking: it returns a request id
// that JS polls with test(), so the event loop (timers, signals, a watchdog) keeps running while one waits.
#include <dlfcn.h>
#include <mpi.h>
#include <napi.h>

#include <sched.h>

#include <chrono>
#include <string>
#include <unordered_map>

namespace {

/** An MPI request in flight and the JS buffer it reads or writes (kept alive until it completes). */
struct Pending {
  MPI_Request request;
  Napi::Reference<Napi::Object> buffer;
};

std::unordered_map<int, Pending> pending;
int nextId = 1;

/** Throws a JS error naming the MPI call and MPI's own message for an error code. */
void check(Napi::Env env, int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw Napi::Error::New(env, std::string("aiayn mpi: ") + call + " failed: " + std::string(text, length));
}

/** The rank and size of MPI_COMM_WORLD as a JS object. */
Napi::Value World(Napi::Env env) {
  int rank = 0, size = 0;
  check(env, MPI_Comm_rank(MPI_COMM_WORLD, &rank), "MPI_Comm_rank");
  check(env, MPI_Comm_size(MPI_COMM_WORLD, &size), "MPI_Comm_size");
  Napi::Object out = Napi::Object::New(env);
  out.Set("rank", rank);
  out.Set("size", size);
  return out;
}

/** init(): MPI_Init once (errors returned, not fatal); returns {rank, size}. */
Napi::Value Init(const Napi::CallbackInfo& info) {
  int ready = 0;
  MPI_Initialized(&ready);
  if (!ready) {
    // Open MPI loads its transport plugins with dlopen; they need libmpi's symbols visible globally.
    dlopen("libmpi.so.40", RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
    int provided = 0;
    check(info.Env(), MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SINGLE, &provided), "MPI_Init_thread");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  }
  return World(info.Env());
}

/** The Float32Array argument i, or a TypeError naming the function. */
Napi::TypedArrayOf<float> floats(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  if (info.Length() <= i || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(info.Env(), std::string("aiayn mpi: ") + fn + " needs a Float32Array");
  }
  return info[i].As<Napi::TypedArrayOf<float>>();
}

/** Files a request with the buffer it uses (none for a barrier); returns its id. */
Napi::Value track(Napi::Env env, MPI_Request request, Napi::Object buffer) {
  const int id = nextId++;
  pending.emplace(id, Pending{request, buffer.IsEmpty() ? Napi::Reference<Napi::Object>() : Napi::Persistent(buffer)});
  return Napi::Number::New(env, id);
}

/** iallreduce(Float32Array): starts summing the array over all ranks, in place; returns a request id. */
Napi::Value Iallreduce(const Napi::CallbackInfo& info) {
  auto data = floats(info, 0, "iallreduce");
  MPI_Request request;
  check(info.Env(), MPI_Iallreduce(MPI_IN_PLACE, data.Data(), static_cast<int>(data.ElementLength()), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &request), "MPI_Iallreduce");
  return track(info.Env(), request, data);
}

/** ibroadcast(Float32Array, root): starts copying root's array into every rank's; returns a request id. */
Napi::Value Ibroadcast(const Napi::CallbackInfo& info) {
  auto data = floats(info, 0, "ibroadcast");
  const int root = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
  MPI_Request request;
  check(info.Env(), MPI_Ibcast(data.Data(), static_cast<int>(data.ElementLength()), MPI_FLOAT, root, MPI_COMM_WORLD, &request), "MPI_Ibcast");
  return track(info.Env(), request, data);
}

/** ibarrier(): starts a barrier; returns a request id. */
Napi::Value Ibarrier(const Napi::CallbackInfo& info) {
  MPI_Request request;
  check(info.Env(), MPI_Ibarrier(MPI_COMM_WORLD, &request), "MPI_Ibarrier");
  return track(info.Env(), request, Napi::Object());
}

/**
 * test(id, ms = 0): whether the request has completed, driving MPI's progress (MPI_Test) for up to ms
 * milliseconds, yielding the core between tries; forgets the request once complete.
 */
Napi::Value Test(const Napi::CallbackInfo& info) {
  const int id = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
  const double ms = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : 0.0;
  auto it = pending.find(id);
  if (it == pending.end()) throw Napi::Error::New(info.Env(), "aiayn mpi: test of an unknown request " + std::to_string(id));
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double, std::milli>(ms);
  int done = 0;
  for (;;) {
    check(info.Env(), MPI_Test(&it->second.request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (done || std::chrono::steady_clock::now() >= until) break;
    sched_yield();
  }
  if (done) pending.erase(it);
  return Napi::Boolean::New(info.Env(), done != 0);
}

/** abort(code): ends every rank of the job (MPI_Abort). */
Napi::Value Abort(const Napi::CallbackInfo& info) {
  const int code = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 1;
  MPI_Abort(MPI_COMM_WORLD, code);
  return info.Env().Undefined();
}

/** finalize(): MPI_Finalize, once every request has completed. */
Napi::Value Finalize(const Napi::CallbackInfo& info) {
  if (!pending.empty()) throw Napi::Error::New(info.Env(), "aiayn mpi: finalize with " + std::to_string(pending.size()) + " requests still in flight");
  int done = 0;
  MPI_Finalized(&done);
  if (!done) check(info.Env(), MPI_Finalize(), "MPI_Finalize");
  return info.Env().Undefined();
}

Napi::Object Register(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init));
  exports.Set("iallreduce", Napi::Function::New(env, Iallreduce));
  exports.Set("ibroadcast", Napi::Function::New(env, Ibroadcast));
  exports.Set("ibarrier", Napi::Function::New(env, Ibarrier));
  exports.Set("test", Napi::Function::New(env, Test));
  exports.Set("abort", Napi::Function::New(env, Abort));
  exports.Set("finalize", Napi::Function::New(env, Finalize));
  return exports;
}

}  // namespace

NODE_API_MODULE(aiayn_mpi, Register)
