// Argument validation for the addon's functions (see common.h).
#include "common.h"

#include <cmath>
#include <string>
#include <utility>

namespace aiayn {

void fail(Napi::Env env, const std::string& message, bool range) {
  if (range) throw Napi::RangeError::New(env, "aiayn native: " + message);
  throw Napi::TypeError::New(env, "aiayn native: " + message);
}

/** Argument i, throwing when it is missing. */
static Napi::Value arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (i >= info.Length()) fail(info.Env(), std::string("missing argument '") + name + "'");
  return info[i];
}

/**
 * Argument i's first element and length when it is a typed array of type `want`, else a TypeError saying it must
 * be `kind`. One napi_get_typedarray_info call: the decoder step passes 73 arrays a token, and Napi::TypedArray's
 * checks and view took four calls each (about 20 us a step).
 */
static std::pair<void*, int64_t> typedArg(const Napi::CallbackInfo& info, size_t i, const char* name, napi_typedarray_type want,
                                          const char* kind) {
  Napi::Value v = arg(info, i, name);
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (!v.IsObject() || napi_get_typedarray_info(info.Env(), v, &type, &length, &data, nullptr, nullptr) != napi_ok || type != want) {
    fail(info.Env(), std::string("'") + name + "' must be a " + kind);
  }
  return {data, static_cast<int64_t>(length)};
}

F32 argF32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  const auto [data, length] = typedArg(info, i, name, napi_float32_array, "Float32Array");
  return F32{static_cast<float*>(data), length};
}

I32 argI32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  const auto [data, length] = typedArg(info, i, name, napi_int32_array, "Int32Array");
  return I32{static_cast<int32_t*>(data), length};
}

U32 argU32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  const auto [data, length] = typedArg(info, i, name, napi_uint32_array, "Uint32Array");
  return U32{static_cast<uint32_t*>(data), length};
}

double argNumber(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = arg(info, i, name);
  if (!v.IsNumber()) fail(info.Env(), std::string("'") + name + "' must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

/** d as an exact (safe) integer, else a RangeError. */
static int64_t toInt(Napi::Env env, double d, const char* name) {
  if (!std::isfinite(d) || std::floor(d) != d || std::fabs(d) > 9007199254740991.0) {
    fail(env, std::string("'") + name + "' must be an integer", true);
  }
  return static_cast<int64_t>(d);
}

int64_t argInt(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return toInt(info.Env(), argNumber(info, i, name), name);
}

int64_t argSize(const Napi::CallbackInfo& info, size_t i, const char* name) {
  int64_t v = argInt(info, i, name);
  if (v < 0) fail(info.Env(), std::string("'") + name + "' must be >= 0", true);
  return v;
}

bool argBool(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = arg(info, i, name);
  if (!v.IsBoolean()) fail(info.Env(), std::string("'") + name + "' must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

/** A JS array of integers (optionally non-negative). */
static std::vector<int64_t> intArray(const Napi::CallbackInfo& info, Napi::Value v, const char* name, bool nonNegative) {
  if (!v.IsArray()) fail(info.Env(), std::string("'") + name + "' must be an array of integers");
  auto a = v.As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t d = 0; d < a.Length(); d++) {
    Napi::Value e = a.Get(d);
    if (!e.IsNumber()) fail(info.Env(), std::string("'") + name + "' must be an array of integers");
    out[d] = toInt(info.Env(), e.As<Napi::Number>().DoubleValue(), name);
    if (nonNegative && out[d] < 0) fail(info.Env(), std::string("'") + name + "' must not hold negative sizes", true);
  }
  return out;
}

std::vector<int64_t> argShape(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return intArray(info, arg(info, i, name), name, true);
}

int argOp(const Napi::CallbackInfo& info, size_t i, int count, const char* name) {
  int64_t op = argInt(info, i, name);
  if (op < 0 || op >= count) fail(info.Env(), std::string("unknown ") + name + " code", true);
  return static_cast<int>(op);
}

StridedArg argStrided(const Napi::CallbackInfo& info, size_t i, const std::vector<int64_t>& shape, const char* name) {
  Napi::Env env = info.Env();
  F32 buf = argF32(info, i, name);
  int64_t offset = argInt(info, i + 1, name);
  std::vector<int64_t> strides = intArray(info, arg(info, i + 2, name), name, false);
  if (strides.size() != shape.size()) fail(env, std::string("'") + name + "' needs one stride per dimension", true);
  for (int64_t n : shape) {
    if (n == 0) return StridedArg{buf.data, offset, strides};
  }
  __int128 lo = offset;  // 128 bits: the sums below cannot overflow
  __int128 hi = offset;
  for (size_t d = 0; d < shape.size(); d++) {
    const __int128 reach = static_cast<__int128>(shape[d] - 1) * strides[d];
    if (reach < 0) lo += reach; else hi += reach;
  }
  if (lo < 0 || hi >= buf.length) fail(env, std::string("'") + name + "' reaches outside its buffer", true);
  return StridedArg{buf.data, offset, strides};
}

int64_t product(Napi::Env env, std::initializer_list<int64_t> sizes) {
  int64_t p = 1;
  for (int64_t s : sizes) {
    if (__builtin_mul_overflow(p, s, &p)) fail(env, "size overflow", true);
  }
  return p;
}

int64_t shapeSize(Napi::Env env, const std::vector<int64_t>& shape) {
  int64_t p = 1;
  for (int64_t s : shape) {
    if (__builtin_mul_overflow(p, s, &p)) fail(env, "size overflow", true);
  }
  return p;
}

void needLength(Napi::Env env, int64_t have, int64_t need, const char* name) {
  if (have < need) {
    fail(env, std::string("'") + name + "' holds " + std::to_string(have) + " elements, needs " + std::to_string(need), true);
  }
}

Napi::Array opNames(Napi::Env env, const char* const* list, int count) {
  Napi::Array a = Napi::Array::New(env, count);
  for (int i = 0; i < count; i++) a.Set(static_cast<uint32_t>(i), Napi::String::New(env, list[i]));
  return a;
}

}  // namespace aiayn
