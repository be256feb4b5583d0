// Reading kernel argument objects by field name (see read.h).
#include "napi/read.h"

#include <cmath>
#include <utility>

namespace aiayn {

Reader::Reader(const Napi::CallbackInfo& info, const char* kernel)
    : env_(info.Env()), object_(info.Length() > 0 ? static_cast<napi_value>(info[0]) : nullptr), kernel_(kernel), field_(nullptr), index_(-1) {
  if (object_ == nullptr || !info[0].IsObject()) fail("needs one argument object");
}

Reader::Reader(const Reader& parent, napi_value object, const char* field, int64_t index)
    : env_(parent.env_), object_(object), kernel_(parent.kernel_), field_(field), index_(index) {}

void Reader::fail(const std::string& message, bool range) const {
  const std::string text = std::string("aiayn native: ") + kernel_ + ": " + message;
  if (range) throw Napi::RangeError::New(env_, text);
  throw Napi::TypeError::New(env_, text);
}

std::string Reader::quote(const char* name) const {
  std::string q = "'";
  if (field_ != nullptr) q += std::string(field_) + (index_ >= 0 ? "[" + std::to_string(index_) + "]" : "") + ".";
  return q + name + "'";
}

napi_value Reader::get(const char* name) const {
  napi_value v;
  if (napi_get_named_property(env_, object_, name, &v) != napi_ok) throw Napi::Error::New(env_);  // a getter threw
  return v;
}

bool Reader::absent(napi_value v) const {
  napi_valuetype type;
  napi_typeof(env_, v, &type);
  return type == napi_null || type == napi_undefined;
}

/**
 * One napi_get_typedarray_info call: the decoder step reads about 50 arrays a token, and Napi::TypedArray's checks
 * and view took four calls each (BENCHMARKS.md, "Measurements behind the native code").
 */
std::pair<void*, int64_t> Reader::typed(napi_value v, const char* name, napi_typedarray_type want, const char* kind) const {
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env_, v, &type, &length, &data, nullptr, nullptr) != napi_ok || type != want) {
    fail(quote(name) + " must be a " + kind);
  }
  return {data, static_cast<int64_t>(length)};
}

void* Reader::external(const char* name, const napi_type_tag& tag, const char* kind) const {
  const napi_value v = get(name);
  napi_valuetype type;
  bool tagged = false;
  void* data = nullptr;
  if (napi_typeof(env_, v, &type) != napi_ok || type != napi_external || napi_check_object_type_tag(env_, v, &tag, &tagged) != napi_ok ||
      !tagged || napi_get_value_external(env_, v, &data) != napi_ok) {
    fail(quote(name) + " must be " + kind);
  }
  return data;
}

bool Reader::has(const char* name) const {
  napi_valuetype type;
  napi_typeof(env_, get(name), &type);
  return type != napi_undefined;
}

F32 Reader::f32(const char* name) const {
  const auto [data, length] = typed(get(name), name, napi_float32_array, "Float32Array");
  return F32{static_cast<float*>(data), length};
}

float* Reader::floats(const char* name, int64_t need, const char* what) const {
  const F32 a = f32(name);
  needLength(a.length, need, name, what);
  return a.data;
}

int32_t* Reader::ints(const char* name, int64_t need) const {
  const I32 a = i32(name);
  needLength(a.length, need, name);
  return a.data;
}

F32 Reader::f32OrNull(const char* name) const {
  const napi_value v = get(name);
  if (absent(v)) return F32{nullptr, 0};
  const auto [data, length] = typed(v, name, napi_float32_array, "Float32Array");
  return F32{static_cast<float*>(data), length};
}

I32 Reader::i32(const char* name) const {
  const auto [data, length] = typed(get(name), name, napi_int32_array, "Int32Array");
  return I32{static_cast<int32_t*>(data), length};
}

U32 Reader::u32(const char* name) const {
  const auto [data, length] = typed(get(name), name, napi_uint32_array, "Uint32Array");
  return U32{static_cast<uint32_t*>(data), length};
}

double Reader::number(const char* name) const {
  double d;
  if (napi_get_value_double(env_, get(name), &d) != napi_ok) fail(quote(name) + " must be a number");
  return d;
}

int64_t Reader::toInteger(napi_value v, const char* name) const {
  double d;
  if (napi_get_value_double(env_, v, &d) != napi_ok) fail(quote(name) + " must be a number");
  if (!std::isfinite(d) || std::floor(d) != d || std::fabs(d) > 9007199254740991.0) fail(quote(name) + " must be an integer", true);
  return static_cast<int64_t>(d);
}

int64_t Reader::integer(const char* name) const { return toInteger(get(name), name); }

int64_t Reader::integerOr(const char* name, int64_t fallback) const {
  const napi_value v = get(name);
  napi_valuetype type;
  napi_typeof(env_, v, &type);
  return type == napi_undefined ? fallback : toInteger(v, name);
}

int64_t Reader::size(const char* name) const {
  const int64_t v = integer(name);
  if (v < 0) fail(quote(name) + " must be >= 0", true);
  return v;
}

int64_t Reader::sizeOr(const char* name, int64_t fallback) const {
  const int64_t v = integerOr(name, fallback);
  if (v < 0) fail(quote(name) + " must be >= 0", true);
  return v;
}

bool Reader::boolean(const char* name) const {
  bool b;
  if (napi_get_value_bool(env_, get(name), &b) != napi_ok) fail(quote(name) + " must be a boolean");
  return b;
}

std::string Reader::text(const char* name) const {
  char buffer[32];
  size_t length = 0;
  if (napi_get_value_string_utf8(env_, get(name), buffer, sizeof buffer, &length) != napi_ok) fail(quote(name) + " must be a string");
  return std::string(buffer, length);
}

int Reader::op(const char* name, int count) const {
  const int64_t op = integer(name);
  if (op < 0 || op >= count) fail(std::string("unknown ") + name + " code " + std::to_string(op), true);
  return static_cast<int>(op);
}

std::vector<int64_t> Reader::integers(napi_value v, const char* name, bool sizes) const {
  bool isArray = false;
  napi_is_array(env_, v, &isArray);
  if (!isArray) fail(quote(name) + " must be an array of integers");
  uint32_t length = 0;
  napi_get_array_length(env_, v, &length);
  std::vector<int64_t> out(length);
  for (uint32_t d = 0; d < length; d++) {
    napi_value e;
    if (napi_get_element(env_, v, d, &e) != napi_ok) throw Napi::Error::New(env_);
    out[d] = toInteger(e, name);
    if (sizes && out[d] < 0) fail(quote(name) + " must not hold negative sizes", true);
  }
  return out;
}

std::vector<int64_t> Reader::shape(const char* name) const { return integers(get(name), name, true); }

Reader Reader::object(const char* name) const {
  std::optional<Reader> r = objectOrNull(name);
  if (!r) fail(quote(name) + " must be an object");
  return *r;
}

std::optional<Reader> Reader::objectOrNull(const char* name) const {
  const napi_value v = get(name);
  napi_valuetype type;
  napi_typeof(env_, v, &type);
  if (type == napi_null || type == napi_undefined) return std::nullopt;
  if (type != napi_object) fail(quote(name) + " must be an object");
  return Reader(*this, v, name, -1);
}

std::vector<Reader> Reader::objects(const char* name) const {
  const napi_value v = get(name);
  bool isArray = false;
  napi_is_array(env_, v, &isArray);
  if (!isArray) fail(quote(name) + " must be an array of objects");
  uint32_t length = 0;
  napi_get_array_length(env_, v, &length);
  std::vector<Reader> out;
  out.reserve(length);
  for (uint32_t i = 0; i < length; i++) {
    napi_value e;
    napi_valuetype type;
    if (napi_get_element(env_, v, i, &e) != napi_ok) throw Napi::Error::New(env_);
    napi_typeof(env_, e, &type);
    if (type != napi_object) fail(quote(name) + " must hold objects");
    out.push_back(Reader(*this, e, name, i));
  }
  return out;
}

StridedRef Reader::strided(const char* name, const std::vector<int64_t>& shape) const {
  const Reader s = object(name);
  const F32 buf = s.f32("data");
  const int64_t offset = s.integer("offset");
  std::vector<int64_t> strides = s.integers(s.get("strides"), "strides", false);
  if (strides.size() != shape.size()) fail(quote(name) + " needs one stride per dimension", true);
  for (int64_t n : shape) {
    if (n == 0) return StridedRef{buf.data, offset, strides};
  }
  __int128 lo = offset;  // 128 bits: the sums below cannot overflow
  __int128 hi = offset;
  for (size_t d = 0; d < shape.size(); d++) {
    const __int128 reach = static_cast<__int128>(shape[d] - 1) * strides[d];
    if (reach < 0) lo += reach; else hi += reach;
  }
  if (lo < 0 || hi >= buf.length) fail(quote(name) + " reaches outside its buffer", true);
  return StridedRef{buf.data, offset, strides};
}

void Reader::needLength(int64_t have, int64_t need, const char* name, const char* what) const {
  if (have < need) {
    fail(quote(name) + (what != nullptr ? std::string(" (") + what + ")" : "") + " holds " + std::to_string(have) +
         " elements, needs " + std::to_string(need), true);
  }
}

int64_t Reader::product(std::initializer_list<int64_t> sizes) const { return product(sizes.begin(), sizes.end()); }

int64_t Reader::product(const std::vector<int64_t>& shape) const { return product(shape.data(), shape.data() + shape.size()); }

int64_t Reader::product(const int64_t* first, const int64_t* last) const {
  int64_t p = 1;
  for (; first != last; first++) {
    if (__builtin_mul_overflow(p, *first, &p)) fail("size overflow", true);
  }
  return p;
}

Napi::Array opNames(Napi::Env env, const char* const* list, int count) {
  Napi::Array a = Napi::Array::New(env, count);
  for (int i = 0; i < count; i++) a.Set(static_cast<uint32_t>(i), Napi::String::New(env, list[i]));
  return a;
}

}  // namespace aiayn
