#pragma once
// A small RAII layer over HDF5's C library (Debian's libhdf5-dev): files, groups, n-dimensional
// datasets written and read by hyperslab, and scalar attributes. Every failure throws
// h5::Error naming the file and the object, so a bad file becomes a one-line error with exit
// status 2 instead of HDF5's error stack on stderr.

#include <hdf5.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace rimlab::h5 {

/// A file that cannot be read or written as asked. An invalid_argument, so that commands report
/// it as bad input (exit 2).
class Error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// The element types the project stores.
/// kBool is stored as h5py and numpy store bool: an 8-bit enum {FALSE = 0, TRUE = 1}; in memory it
/// is one byte per element, 0 or 1.
enum class Type { kUInt8, kInt32, kInt64, kFloat32, kFloat64, kBool };

/// Owns one HDF5 identifier and closes it with the right H5?close.
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  ~Handle() { Close(); }
  Handle(Handle&& o) noexcept : id_(o.id_) { o.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& o) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void Close();

 private:
  hid_t id_ = H5I_INVALID_HID;
};

/// What a dataset holds: its shape and the class of its elements.
struct DatasetInfo {
  std::vector<hsize_t> dims;
  H5T_class_t type_class = H5T_NO_CLASS;
  size_t type_size = 0;
};

class Dataset;

/// A group (or the file's root): where datasets, subgroups and attributes live. `where` is the
/// human-readable path used in errors ("FILE: training/features").
class Group {
 public:
  Group(Handle handle, std::string file, std::string path);

  bool Has(const std::string& name) const;
  /// Names of the direct children, in HDF5's (alphabetical) order.
  std::vector<std::string> Children() const;
  Group CreateGroup(const std::string& name) const;
  Group OpenGroup(const std::string& name) const;
  /// A dataset of `dims` elements of `type`; chunk is empty for contiguous storage, and
  /// deflate > 0 (1-9, needs a chunk) compresses it with gzip, which every HDF5 reader decodes.
  Dataset CreateDataset(const std::string& name, Type type, const std::vector<hsize_t>& dims,
                        const std::vector<hsize_t>& chunk = {}, int deflate = 0) const;
  Dataset OpenDataset(const std::string& name) const;

  void SetAttribute(const std::string& name, int64_t value) const;
  void SetAttribute(const std::string& name, double value) const;
  void SetAttribute(const std::string& name, const std::string& value) const;
  bool HasAttribute(const std::string& name) const;
  int64_t GetIntAttribute(const std::string& name) const;
  std::string GetStringAttribute(const std::string& name) const;

  const std::string& file() const { return file_; }
  /// "FILE: path" (the root is "FILE: /").
  std::string Where(const std::string& child = "") const;
  hid_t id() const { return handle_.get(); }

 private:
  Handle handle_;
  std::string file_, path_;
};

class Dataset {
 public:
  Dataset(Handle handle, std::string where);

  DatasetInfo Info() const;
  /// Writes `counts` elements starting at `offsets` from `data`, laid out row-major in memory as
  /// the counts say, converting from `memory_type` to the stored type.
  void Write(const std::vector<hsize_t>& offsets, const std::vector<hsize_t>& counts,
             const void* data, Type memory_type) const;
  void Read(const std::vector<hsize_t>& offsets, const std::vector<hsize_t>& counts, void* data,
            Type memory_type) const;
  /// The whole dataset.
  void WriteAll(const void* data, Type memory_type) const;
  void ReadAll(void* data, Type memory_type) const;
  const std::string& where() const { return where_; }

 private:
  Handle handle_;
  std::string where_;
};

/// Creates (truncating) `path` for writing; its root group.
Group CreateFile(const std::string& path);
/// Opens an existing file read-only; throws Error when it is missing, not HDF5 or truncated.
Group OpenFile(const std::string& path);
/// Opens an existing file to read and add to it (same checks as OpenFile).
Group OpenFileForUpdate(const std::string& path);

/// "(51, 100, 64, 64, 1)".
std::string ShapeString(const std::vector<hsize_t>& dims);

}  // namespace rimlab::h5
