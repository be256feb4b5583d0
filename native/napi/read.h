// Reading a kernel's argument object (every kernel takes one, see src/backend/native/addon.ts) by field name into
// the kernel's struct: each field is looked up once and checked, and a bad one becomes a JS TypeError (wrong type)
// or RangeError (wrong size) whose message names the kernel and the field, never a crash.
#pragma once

#include <napi.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "kernels/strided.h"

namespace aiayn {

/** A Float32Array seen without copying (data already includes the byteOffset). */
struct F32 {
  float* data;
  int64_t length;
};

/** An Int32Array seen without copying. */
struct I32 {
  int32_t* data;
  int64_t length;
};

/** A Uint32Array seen without copying. */
struct U32 {
  uint32_t* data;
  int64_t length;
};

/** The fields of one argument object of a kernel call; a nested object gets a Reader of its own. */
class Reader {
 public:
  /** Argument 0 of a call of `kernel`, which must be an object. */
  Reader(const Napi::CallbackInfo& info, const char* kernel);

  /** Whether field `name` is defined. */
  bool has(const char* name) const;
  /** Field `name` as a Float32Array. */
  F32 f32(const char* name) const;
  /** Field `name` as a Float32Array of at least `need` elements (`what`, when given, describes it in errors). */
  float* floats(const char* name, int64_t need, const char* what = nullptr) const;
  /** Field `name` as an Int32Array of at least `need` elements. */
  int32_t* ints(const char* name, int64_t need) const;
  /** Field `name` as a Float32Array, or {nullptr, 0} when it is null or undefined. */
  F32 f32OrNull(const char* name) const;
  /** Field `name` as an Int32Array. */
  I32 i32(const char* name) const;
  /** Field `name` as a Uint32Array. */
  U32 u32(const char* name) const;
  /** Field `name` as a number. */
  double number(const char* name) const;
  /** Field `name` as an exact integer (any sign). */
  int64_t integer(const char* name) const;
  /** Field `name` as an exact integer, or `fallback` when it is undefined. */
  int64_t integerOr(const char* name, int64_t fallback) const;
  /** Field `name` as a non-negative integer. */
  int64_t size(const char* name) const;
  /** Field `name` as a non-negative integer, or `fallback` when it is undefined. */
  int64_t sizeOr(const char* name, int64_t fallback) const;
  /** Field `name` as a boolean. */
  bool boolean(const char* name) const;
  /** Field `name` as a string (at most 31 bytes). */
  std::string text(const char* name) const;
  /** Field `name` as an index into a table of `count` op names. */
  int op(const char* name, int count) const;
  /** Field `name` as an array of non-negative integers (a shape). */
  std::vector<int64_t> shape(const char* name) const;
  /** Field `name` as the data of an external value tagged `tag` (what `kind` says it must be, for messages). */
  void* external(const char* name, const napi_type_tag& tag, const char* kind) const;
  /** Field `name` as a nested object. */
  Reader object(const char* name) const;
  /** Field `name` as a nested object, or nothing when it is null or undefined. */
  std::optional<Reader> objectOrNull(const char* name) const;
  /** Field `name` as an array of objects. */
  std::vector<Reader> objects(const char* name) const;
  /**
   * Field `name` as a strided operand over `shape` ({data, offset, strides}, one stride per dimension), checked so
   * that every element it reaches lies inside the buffer.
   */
  StridedRef strided(const char* name, const std::vector<int64_t>& shape) const;

  /** Throws a TypeError (RangeError when `range`) "aiayn native: <kernel>: <message>". */
  [[noreturn]] void fail(const std::string& message, bool range = false) const;
  /** Throws unless field `name` holds at least `need` elements (`what`, when given, describes it in the message). */
  void needLength(int64_t have, int64_t need, const char* name, const char* what = nullptr) const;
  /** Product of sizes, throwing on overflow. */
  int64_t product(std::initializer_list<int64_t> sizes) const;
  /** Product of a shape's sizes, throwing on overflow. */
  int64_t product(const std::vector<int64_t>& shape) const;
  /** Field `name` quoted for a message, with this object's place: 'layers[1].crossV'. */
  std::string quote(const char* name) const;

 private:
  /** A nested object's reader: field `field` (element `index` of it when >= 0) of the parent. */
  Reader(const Reader& parent, napi_value object, const char* field, int64_t index);
  /** The value of field `name` (undefined when absent). */
  napi_value get(const char* name) const;
  /** Whether v is null or undefined. */
  bool absent(napi_value v) const;
  /** v's data and length when it is a typed array of type `want`, else a TypeError saying it must be `kind`. */
  std::pair<void*, int64_t> typed(napi_value v, const char* name, napi_typedarray_type want, const char* kind) const;
  /** Product of the sizes [first, last), throwing on overflow. */
  int64_t product(const int64_t* first, const int64_t* last) const;
  /** v as an exact integer, else a TypeError (not a number) or RangeError. */
  int64_t toInteger(napi_value v, const char* name) const;
  /** v as an array of exact integers (non-negative ones when `sizes`). */
  std::vector<int64_t> integers(napi_value v, const char* name, bool sizes) const;

  napi_env env_;
  napi_value object_;
  const char* kernel_;
  const char* field_;  // this object's field in its parent, nullptr for argument 0
  int64_t index_;      // this object's index in that field's array, or -1
};

/** A JS array of op names in code order (the wrapper maps names to codes with it). */
Napi::Array opNames(Napi::Env env, const char* const* list, int count);

}  // namespace aiayn
