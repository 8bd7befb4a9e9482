#pragma once
/// A minimal binary format for environment and pool snapshots (Environment::SaveState).
///
/// A snapshot starts with a magic word, a tag (the env's name) and a format version, so that bytes
/// of another env, another version or no snapshot at all are refused with a message saying so.
/// Values are stored in the machine's own byte order and layout: snapshots are for resuming a run
/// with the same build, not for exchange. Every read is bounds-checked, and lengths are checked
/// against the bytes left before anything is allocated, so corrupt input throws
/// std::invalid_argument instead of reading past the end or allocating gigabytes.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

namespace rimlab {

/// Appends values to a snapshot. Write them in the order the matching StateReader reads them.
class StateWriter {
 public:
  /// Writes the header: magic, `tag` (the env's name) and the `version` of the caller's layout.
  StateWriter(const std::string& tag, uint32_t version);

  template <typename T>
  void Pod(const T& value) {
    static_assert(std::is_trivially_copyable<T>::value, "Pod needs a trivially copyable type");
    static_assert(!std::is_same<T, bool>::value, "write bools with Bool (one checked byte)");
    Raw(&value, sizeof(T));
  }
  void Bool(bool value) { Pod(static_cast<uint8_t>(value ? 1 : 0)); }
  void String(const std::string& s);
  template <typename T>
  void Vector(const std::vector<T>& v) {
    static_assert(std::is_trivially_copyable<T>::value, "Vector needs a trivially copyable type");
    static_assert(!std::is_same<T, bool>::value, "std::vector<bool> has no contiguous storage");
    Pod(static_cast<uint64_t>(v.size()));
    Raw(v.data(), v.size() * sizeof(T));
  }
  void Raw(const void* data, size_t n);

  const std::string& bytes() const { return bytes_; }
  /// Moves the snapshot out; the writer is empty afterwards.
  std::string Take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

/// Reads a snapshot back. Every method throws std::invalid_argument("<tag>: snapshot ...") when
/// the bytes run out or do not make sense; values read are not otherwise checked, so callers
/// validate what could break their invariants (positions, enum values) and call Fail.
class StateReader {
 public:
  /// Checks the header against `tag` and `version`. `bytes` must outlive the reader.
  StateReader(const std::string& bytes, std::string tag, uint32_t version);

  template <typename T>
  T Pod() {
    static_assert(std::is_trivially_copyable<T>::value, "Pod needs a trivially copyable type");
    static_assert(!std::is_same<T, bool>::value, "read bools with Bool (one checked byte)");
    T value;
    Raw(&value, sizeof(T));
    return value;
  }
  bool Bool();
  std::string String();
  template <typename T>
  std::vector<T> Vector() {
    static_assert(std::is_trivially_copyable<T>::value, "Vector needs a trivially copyable type");
    static_assert(!std::is_same<T, bool>::value, "std::vector<bool> has no contiguous storage");
    const size_t n = Count(sizeof(T));
    std::vector<T> v(n);
    Raw(v.data(), n * sizeof(T));
    return v;
  }
  void Raw(void* out, size_t n);

  /// Throws unless every byte has been read: trailing bytes mean the layout is not the one
  /// expected, even when everything read so far looked plausible.
  void Finish() const;
  /// Throws std::invalid_argument("<tag>: snapshot corrupt: <what>").
  [[noreturn]] void Fail(const std::string& what) const;

  const std::string& tag() const { return tag_; }
  size_t remaining() const { return bytes_.size() - pos_; }

 private:
  /// Reads an element count and checks that that many elements of `element_size` bytes remain.
  size_t Count(size_t element_size);

  const std::string& bytes_;
  std::string tag_;
  size_t pos_ = 0;
};

}  // namespace rimlab
