#include "data/hdf5_file.h"

#include <mutex>

namespace rimlab::h5 {

namespace {

/// HDF5 prints its error stack to stderr by default; ours become exceptions instead.
void SilenceLibrary() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

/// numpy's bool as h5py writes it. The types live for the whole process: HDF5 needs them at every
/// read and write, and two small type objects are not worth reference counting.
hid_t BoolType(hid_t base) {
  const hid_t type = H5Tenum_create(base);
  int8_t value = 0;
  H5Tenum_insert(type, "FALSE", &value);
  value = 1;
  H5Tenum_insert(type, "TRUE", &value);
  return type;
}

hid_t NativeBool() {
  static const hid_t type = BoolType(H5T_NATIVE_INT8);
  return type;
}

hid_t FileBool() {
  static const hid_t type = BoolType(H5T_STD_I8LE);
  return type;
}

hid_t NativeType(Type t) {
  switch (t) {
    case Type::kBool:
      return NativeBool();
    case Type::kUInt8:
      return H5T_NATIVE_UINT8;
    case Type::kInt32:
      return H5T_NATIVE_INT32;
    case Type::kInt64:
      return H5T_NATIVE_INT64;
    case Type::kFloat32:
      return H5T_NATIVE_FLOAT;
    case Type::kFloat64:
      return H5T_NATIVE_DOUBLE;
  }
  return H5T_NATIVE_UINT8;
}

/// Little-endian on disk whatever the machine, as h5py and Minari write.
hid_t FileType(Type t) {
  switch (t) {
    case Type::kBool:
      return FileBool();
    case Type::kUInt8:
      return H5T_STD_U8LE;
    case Type::kInt32:
      return H5T_STD_I32LE;
    case Type::kInt64:
      return H5T_STD_I64LE;
    case Type::kFloat32:
      return H5T_IEEE_F32LE;
    case Type::kFloat64:
      return H5T_IEEE_F64LE;
  }
  return H5T_STD_U8LE;
}

void Check(herr_t status, const std::string& what) {
  if (status < 0) throw Error(what);
}

Handle Checked(hid_t id, const std::string& what) {
  if (id < 0) throw Error(what);
  return Handle(id);
}

std::string Join(const std::string& path, const std::string& name) {
  return path == "/" ? name : path + "/" + name;
}

Handle Selection(const Handle& dataset, const std::vector<hsize_t>& offsets,
                 const std::vector<hsize_t>& counts, const std::string& where) {
  Handle space = Checked(H5Dget_space(dataset.get()), where + ": cannot read its shape");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0 || static_cast<size_t>(rank) != offsets.size() || offsets.size() != counts.size()) {
    throw Error(where + ": a selection of rank " + std::to_string(offsets.size()) +
                " on a dataset of rank " + std::to_string(rank));
  }
  std::vector<hsize_t> dims(offsets.size());
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  for (size_t i = 0; i < dims.size(); ++i) {
    if (offsets[i] + counts[i] > dims[i]) {
      throw Error(where + ": selection beyond its shape " + ShapeString(dims) + " on axis " +
                  std::to_string(i));
    }
  }
  Check(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, offsets.data(), nullptr, counts.data(),
                            nullptr),
        where + ": cannot select a hyperslab");
  return space;
}

}  // namespace

Handle& Handle::operator=(Handle&& o) noexcept {
  if (this != &o) {
    Close();
    id_ = o.id_;
    o.id_ = H5I_INVALID_HID;
  }
  return *this;
}

void Handle::Close() {
  if (id_ < 0) return;
  switch (H5Iget_type(id_)) {
    case H5I_FILE:
      H5Fclose(id_);
      break;
    case H5I_GROUP:
      H5Gclose(id_);
      break;
    case H5I_DATASET:
      H5Dclose(id_);
      break;
    case H5I_DATASPACE:
      H5Sclose(id_);
      break;
    case H5I_DATATYPE:
      H5Tclose(id_);
      break;
    case H5I_ATTR:
      H5Aclose(id_);
      break;
    case H5I_GENPROP_LST:
      H5Pclose(id_);
      break;
    default:
      H5Idec_ref(id_);
  }
  id_ = H5I_INVALID_HID;
}

std::string ShapeString(const std::vector<hsize_t>& dims) {
  std::string s = "(";
  for (size_t i = 0; i < dims.size(); ++i) {
    s += (i ? ", " : "") + std::to_string(dims[i]);
  }
  return s + (dims.size() == 1 ? ",)" : ")");
}

Group::Group(Handle handle, std::string file, std::string path)
    : handle_(std::move(handle)), file_(std::move(file)), path_(std::move(path)) {}

std::string Group::Where(const std::string& child) const {
  if (child.empty()) return file_ + ": " + path_;
  return file_ + ": " + Join(path_, child);
}

bool Group::Has(const std::string& name) const {
  return H5Lexists(handle_.get(), name.c_str(), H5P_DEFAULT) > 0;
}

std::vector<std::string> Group::Children() const {
  std::vector<std::string> names;
  H5G_info_t info;
  Check(H5Gget_info(handle_.get(), &info), Where() + ": cannot list its members");
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t n = H5Lget_name_by_idx(handle_.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr,
                                         0, H5P_DEFAULT);
    if (n < 0) throw Error(Where() + ": cannot list its members");
    std::string name(static_cast<size_t>(n), '\0');
    H5Lget_name_by_idx(handle_.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(),
                       static_cast<size_t>(n) + 1, H5P_DEFAULT);
    names.push_back(name);
  }
  return names;
}

Group Group::CreateGroup(const std::string& name) const {
  Handle props = Checked(H5Pcreate(H5P_GROUP_CREATE), Where(name) + ": cannot make properties");
  H5Pset_obj_track_times(props.get(), false);
  Handle g = Checked(H5Gcreate2(handle_.get(), name.c_str(), H5P_DEFAULT, props.get(), H5P_DEFAULT),
                     Where(name) + ": cannot create the group");
  return Group(std::move(g), file_, Join(path_, name));
}

Group Group::OpenGroup(const std::string& name) const {
  if (!Has(name)) throw Error(Where(name) + ": no such group");
  Handle g = Checked(H5Gopen2(handle_.get(), name.c_str(), H5P_DEFAULT),
                     Where(name) + ": not a group, or unreadable");
  return Group(std::move(g), file_, Join(path_, name));
}

Dataset Group::CreateDataset(const std::string& name, Type type, const std::vector<hsize_t>& dims,
                             const std::vector<hsize_t>& chunk, int deflate) const {
  const std::string where = Where(name);
  if (!chunk.empty() && chunk.size() != dims.size()) {
    throw Error(where + ": the chunk's rank differs from the dataset's");
  }
  if (deflate > 0 && chunk.empty()) throw Error(where + ": compression needs a chunk shape");
  Handle space = Checked(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                         where + ": cannot make a dataspace of shape " + ShapeString(dims));
  Handle props = Checked(H5Pcreate(H5P_DATASET_CREATE), where + ": cannot make properties");
  // No modification times: the same content makes the same bytes, so files can be compared.
  H5Pset_obj_track_times(props.get(), false);
  if (!chunk.empty()) {
    Check(H5Pset_chunk(props.get(), static_cast<int>(chunk.size()), chunk.data()),
          where + ": bad chunk shape " + ShapeString(chunk));
    if (deflate > 0) Check(H5Pset_deflate(props.get(), static_cast<unsigned>(deflate)), where);
  }
  Handle d = Checked(H5Dcreate2(handle_.get(), name.c_str(), FileType(type), space.get(),
                                H5P_DEFAULT, props.get(), H5P_DEFAULT),
                     where + ": cannot create the dataset");
  return Dataset(std::move(d), where);
}

Dataset Group::OpenDataset(const std::string& name) const {
  if (!Has(name)) throw Error(Where(name) + ": no such dataset");
  Handle d = Checked(H5Dopen2(handle_.get(), name.c_str(), H5P_DEFAULT),
                     Where(name) + ": not a dataset, or unreadable");
  return Dataset(std::move(d), Where(name));
}

namespace {

void WriteScalarAttribute(hid_t owner, const std::string& name, hid_t file_type, hid_t mem_type,
                          const void* value, const std::string& where) {
  if (H5Aexists(owner, name.c_str()) > 0) H5Adelete(owner, name.c_str());
  Handle space = Checked(H5Screate(H5S_SCALAR), where);
  Handle a =
      Checked(H5Acreate2(owner, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
              where + ": cannot create attribute '" + name + "'");
  Check(H5Awrite(a.get(), mem_type, value), where + ": cannot write attribute '" + name + "'");
}

}  // namespace

void Group::SetAttribute(const std::string& name, int64_t value) const {
  WriteScalarAttribute(handle_.get(), name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value, Where());
}

void Group::SetAttribute(const std::string& name, double value) const {
  WriteScalarAttribute(handle_.get(), name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value, Where());
}

void Group::SetAttribute(const std::string& name, const std::string& value) const {
  // Variable-length UTF-8, which h5py returns as a str.
  Handle type = Checked(H5Tcopy(H5T_C_S1), Where());
  Check(H5Tset_size(type.get(), H5T_VARIABLE), Where());
  Check(H5Tset_cset(type.get(), H5T_CSET_UTF8), Where());
  const char* text = value.c_str();
  WriteScalarAttribute(handle_.get(), name, type.get(), type.get(), &text, Where());
}

bool Group::HasAttribute(const std::string& name) const {
  return H5Aexists(handle_.get(), name.c_str()) > 0;
}

int64_t Group::GetIntAttribute(const std::string& name) const {
  if (!HasAttribute(name)) throw Error(Where() + ": no attribute '" + name + "'");
  Handle a = Checked(H5Aopen(handle_.get(), name.c_str(), H5P_DEFAULT), Where());
  int64_t value = 0;
  Check(H5Aread(a.get(), H5T_NATIVE_INT64, &value),
        Where() + ": attribute '" + name + "' is not an integer");
  return value;
}

std::string Group::GetStringAttribute(const std::string& name) const {
  if (!HasAttribute(name)) throw Error(Where() + ": no attribute '" + name + "'");
  Handle a = Checked(H5Aopen(handle_.get(), name.c_str(), H5P_DEFAULT), Where());
  Handle stored = Checked(H5Aget_type(a.get()), Where());
  if (H5Tget_class(stored.get()) != H5T_STRING) {
    throw Error(Where() + ": attribute '" + name + "' is not a string");
  }
  if (H5Tis_variable_str(stored.get()) > 0) {
    Handle type = Checked(H5Tcopy(H5T_C_S1), Where());
    H5Tset_size(type.get(), H5T_VARIABLE);
    char* text = nullptr;
    Check(H5Aread(a.get(), type.get(), &text), Where() + ": cannot read attribute '" + name + "'");
    std::string out = text ? text : "";
    H5free_memory(text);
    return out;
  }
  const size_t n = H5Tget_size(stored.get());
  std::string out(n, '\0');
  Check(H5Aread(a.get(), stored.get(), out.data()),
        Where() + ": cannot read attribute '" + name + "'");
  while (!out.empty() && out.back() == '\0') out.pop_back();
  return out;
}

Dataset::Dataset(Handle handle, std::string where)
    : handle_(std::move(handle)), where_(std::move(where)) {}

DatasetInfo Dataset::Info() const {
  DatasetInfo info;
  Handle space = Checked(H5Dget_space(handle_.get()), where_ + ": cannot read its shape");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) throw Error(where_ + ": cannot read its shape");
  info.dims.resize(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), info.dims.data(), nullptr);
  Handle type = Checked(H5Dget_type(handle_.get()), where_ + ": cannot read its type");
  info.type_class = H5Tget_class(type.get());
  info.type_size = H5Tget_size(type.get());
  return info;
}

void Dataset::Write(const std::vector<hsize_t>& offsets, const std::vector<hsize_t>& counts,
                    const void* data, Type memory_type) const {
  Handle file_space = Selection(handle_, offsets, counts, where_);
  Handle mem_space =
      Checked(H5Screate_simple(static_cast<int>(counts.size()), counts.data(), nullptr), where_);
  Check(H5Dwrite(handle_.get(), NativeType(memory_type), mem_space.get(), file_space.get(),
                 H5P_DEFAULT, data),
        where_ + ": write failed (disk full?)");
}

void Dataset::Read(const std::vector<hsize_t>& offsets, const std::vector<hsize_t>& counts,
                   void* data, Type memory_type) const {
  Handle file_space = Selection(handle_, offsets, counts, where_);
  Handle mem_space =
      Checked(H5Screate_simple(static_cast<int>(counts.size()), counts.data(), nullptr), where_);
  Check(H5Dread(handle_.get(), NativeType(memory_type), mem_space.get(), file_space.get(),
                H5P_DEFAULT, data),
        where_ + ": read failed (a truncated or corrupt file?)");
}

void Dataset::WriteAll(const void* data, Type memory_type) const {
  const auto dims = Info().dims;
  Write(std::vector<hsize_t>(dims.size(), 0), dims, data, memory_type);
}

void Dataset::ReadAll(void* data, Type memory_type) const {
  const auto dims = Info().dims;
  Read(std::vector<hsize_t>(dims.size(), 0), dims, data, memory_type);
}

Group CreateFile(const std::string& path) {
  SilenceLibrary();
  Handle f = Checked(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                     path + ": cannot create the file (does its directory exist?)");
  // The root group keeps the file open (HDF5's default weak close): the file closes with the
  // last object open in it.
  Handle root = Checked(H5Gopen2(f.get(), "/", H5P_DEFAULT), path + ": cannot open its root");
  return Group(std::move(root), path, "/");
}

namespace {

Group Open(const std::string& path, unsigned flags) {
  SilenceLibrary();
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 <= 0) {
    throw Error(path + ": not an HDF5 file (missing, unreadable, truncated or another format)");
  }
  Handle f = Checked(H5Fopen(path.c_str(), flags, H5P_DEFAULT),
                     path + ": cannot open it as HDF5 (truncated or corrupt?)");
  Handle root = Checked(H5Gopen2(f.get(), "/", H5P_DEFAULT), path + ": cannot open its root");
  return Group(std::move(root), path, "/");
}

}  // namespace

Group OpenFile(const std::string& path) {
  return Open(path, H5F_ACC_RDONLY);
}

Group OpenFileForUpdate(const std::string& path) {
  return Open(path, H5F_ACC_RDWR);
}

}  // namespace rimlab::h5
