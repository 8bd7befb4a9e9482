#include "data/balls_file.h"

#include <cstdio>
#include <filesystem>
#include <optional>

#include "data/hdf5_file.h"

namespace rimlab {

namespace {

/// [n][T][rest] (a batch, sequence-major) to [T][n][rest] (R-NEM's time-major layout).
template <typename T>
std::vector<T> TimeMajor(const std::vector<T>& in, int n, int frames, size_t rest) {
  std::vector<T> out(in.size());
  for (int i = 0; i < n; ++i) {
    for (int t = 0; t < frames; ++t) {
      const T* src =
          in.data() +
          (static_cast<size_t>(i) * static_cast<size_t>(frames) + static_cast<size_t>(t)) * rest;
      T* dst = out.data() +
               (static_cast<size_t>(t) * static_cast<size_t>(n) + static_cast<size_t>(i)) * rest;
      std::copy(src, src + rest, dst);
    }
  }
  return out;
}

}  // namespace

struct BallsFileWriter::Impl {
  std::string path, partial;
  int frames = 0, size = 0, max_balls = 0;
  std::vector<int64_t> counts;
  std::optional<h5::Group> root;
  struct Split {
    std::optional<h5::Group> group;
    std::optional<h5::Dataset> features, groups, positions, velocities, collisions, ball_counts;
  };
  std::vector<Split> splits;
  bool finished = false;

  void CloseAll() {
    splits.clear();
    root.reset();
  }
};

BallsFileWriter::BallsFileWriter(const std::string& path, const std::vector<int64_t>& counts,
                                 int frames, int size, int max_balls)
    : impl_(std::make_unique<Impl>()) {
  if (counts.size() != BallsSplits().size()) {
    throw h5::Error(path + ": a count per split (training, validation, test) is needed");
  }
  auto& m = *impl_;
  m.path = path;
  m.partial = path + ".partial";
  m.frames = frames;
  m.size = size;
  m.max_balls = max_balls;
  m.counts = counts;
  m.root = h5::CreateFile(m.partial);
  const auto t = static_cast<hsize_t>(frames), s = static_cast<hsize_t>(size),
             b = static_cast<hsize_t>(max_balls);
  for (size_t i = 0; i < counts.size(); ++i) {
    const auto n = static_cast<hsize_t>(counts[i]);
    Impl::Split sp;
    sp.group = m.root->CreateGroup(BallsSplits()[i]);
    // One chunk per sequence; an empty split cannot have chunks, so it is stored contiguously.
    const bool chunked = n > 0;
    auto chunk = [&](std::vector<hsize_t> c) { return chunked ? c : std::vector<hsize_t>{}; };
    const int deflate = chunked ? 4 : 0;
    sp.features = sp.group->CreateDataset("features", h5::Type::kUInt8, {t, n, s, s, 1},
                                          chunk({t, 1, s, s, 1}), deflate);
    sp.groups = sp.group->CreateDataset("groups", h5::Type::kUInt8, {t, n, s, s, 1},
                                        chunk({t, 1, s, s, 1}), deflate);
    sp.positions = sp.group->CreateDataset("positions", h5::Type::kFloat32, {t, n, b, 2},
                                           chunk({t, 1, b, 2}), deflate);
    sp.velocities = sp.group->CreateDataset("velocities", h5::Type::kFloat32, {t, n, b, 2},
                                            chunk({t, 1, b, 2}), deflate);
    sp.collisions = sp.group->CreateDataset("collisions", h5::Type::kUInt8, {t, n, b},
                                            chunk({t, 1, b}), deflate);
    sp.ball_counts = sp.group->CreateDataset("ball_counts", h5::Type::kInt32, {n});
    m.splits.push_back(std::move(sp));
  }
}

BallsFileWriter::~BallsFileWriter() {
  if (!impl_->finished) {
    impl_->CloseAll();
    std::error_code ec;
    std::filesystem::remove(impl_->partial, ec);
  }
}

void BallsFileWriter::SetAttribute(const std::string& name, const std::string& value) {
  impl_->root->SetAttribute(name, value);
}
void BallsFileWriter::SetAttribute(const std::string& name, int64_t value) {
  impl_->root->SetAttribute(name, value);
}
void BallsFileWriter::SetAttribute(const std::string& name, double value) {
  impl_->root->SetAttribute(name, value);
}

void BallsFileWriter::Write(int split, int64_t first, const balls::SequenceBatch& batch) {
  auto& m = *impl_;
  if (split < 0 || static_cast<size_t>(split) >= m.splits.size()) {
    throw h5::Error(m.path + ": no split " + std::to_string(split));
  }
  if (batch.frames != m.frames || batch.size != m.size || batch.max_balls != m.max_balls) {
    throw h5::Error(m.path + ": a batch of another frame count, size or ball count");
  }
  if (batch.count == 0) return;
  const auto& sp = m.splits[static_cast<size_t>(split)];
  const auto t = static_cast<hsize_t>(m.frames), n = static_cast<hsize_t>(batch.count),
             s = static_cast<hsize_t>(m.size), b = static_cast<hsize_t>(m.max_balls),
             at = static_cast<hsize_t>(first);
  const size_t px = batch.pixels(), balls = static_cast<size_t>(m.max_balls);
  sp.features->Write({0, at, 0, 0, 0}, {t, n, s, s, 1},
                     TimeMajor(batch.features, batch.count, m.frames, px).data(), h5::Type::kUInt8);
  sp.groups->Write({0, at, 0, 0, 0}, {t, n, s, s, 1},
                   TimeMajor(batch.groups, batch.count, m.frames, px).data(), h5::Type::kUInt8);
  sp.positions->Write({0, at, 0, 0}, {t, n, b, 2},
                      TimeMajor(batch.positions, batch.count, m.frames, 2 * balls).data(),
                      h5::Type::kFloat32);
  sp.velocities->Write({0, at, 0, 0}, {t, n, b, 2},
                       TimeMajor(batch.velocities, batch.count, m.frames, 2 * balls).data(),
                       h5::Type::kFloat32);
  sp.collisions->Write({0, at, 0}, {t, n, b},
                       TimeMajor(batch.collisions, batch.count, m.frames, balls).data(),
                       h5::Type::kUInt8);
  sp.ball_counts->Write({at}, {n}, batch.ball_counts.data(), h5::Type::kInt32);
}

void BallsFileWriter::Finish() {
  auto& m = *impl_;
  m.CloseAll();
  std::error_code ec;
  std::filesystem::rename(m.partial, m.path, ec);
  if (ec) throw h5::Error(m.path + ": cannot move the finished file into place: " + ec.message());
  m.finished = true;
}

struct BallsFile::Impl {
  std::string path;
  std::optional<h5::Group> root;
  struct Split {
    std::string name;
    std::optional<h5::Dataset> features;
    bool integer = false;
    int64_t count = 0;
  };
  std::vector<Split> splits;
  int frames = 0, height = 0, width = 0;

  const Split& Find(const std::string& name) const {
    for (const auto& s : splits) {
      if (s.name == name) return s;
    }
    throw h5::Error(path + ": no split '" + name + "'");
  }
};

BallsFile::BallsFile() : impl_(std::make_unique<Impl>()) {}
BallsFile::~BallsFile() = default;
BallsFile::BallsFile(BallsFile&&) noexcept = default;
BallsFile& BallsFile::operator=(BallsFile&&) noexcept = default;

BallsFile BallsFile::Open(const std::string& path) {
  BallsFile f;
  auto& m = *f.impl_;
  m.path = path;
  m.root = h5::OpenFile(path);
  for (const auto& name : BallsSplits()) {
    if (!m.root->Has(name)) continue;
    Impl::Split sp;
    sp.name = name;
    h5::Group group = m.root->OpenGroup(name);
    sp.features = group.OpenDataset("features");
    const h5::DatasetInfo info = sp.features->Info();
    const std::string where = sp.features->where();
    if (info.dims.size() != 5 || info.dims[4] != 1) {
      throw h5::Error(where + ": expected shape (T, N, H, W, 1), found " +
                      h5::ShapeString(info.dims));
    }
    if (info.type_class != H5T_INTEGER && info.type_class != H5T_FLOAT) {
      throw h5::Error(where + ": expected integer or floating-point frames");
    }
    sp.integer = info.type_class == H5T_INTEGER;
    const auto t = static_cast<int>(info.dims[0]), h = static_cast<int>(info.dims[2]),
               w = static_cast<int>(info.dims[3]);
    if (t < 1 || h < 1 || w < 1)
      throw h5::Error(where + ": empty frames " + h5::ShapeString(info.dims));
    if (m.splits.empty()) {
      m.frames = t;
      m.height = h;
      m.width = w;
    } else if (t != m.frames || h != m.height || w != m.width) {
      throw h5::Error(where + ": shape " + h5::ShapeString(info.dims) +
                      " differs from the other splits' frames (" + std::to_string(m.frames) +
                      " of " + std::to_string(m.height) + "x" + std::to_string(m.width) + ")");
    }
    sp.count = static_cast<int64_t>(info.dims[1]);
    m.splits.push_back(std::move(sp));
  }
  if (m.splits.empty()) {
    throw h5::Error(path +
                    ": no 'training', 'validation' or 'test' group; not a bouncing-balls "
                    "file in Relational-NEM's layout");
  }
  return f;
}

const std::string& BallsFile::path() const {
  return impl_->path;
}

bool BallsFile::HasSplit(const std::string& split) const {
  for (const auto& s : impl_->splits) {
    if (s.name == split) return true;
  }
  return false;
}

int64_t BallsFile::Count(const std::string& split) const {
  return impl_->Find(split).count;
}
int BallsFile::frames() const {
  return impl_->frames;
}
int BallsFile::height() const {
  return impl_->height;
}
int BallsFile::width() const {
  return impl_->width;
}

void BallsFile::ReadFeatures(const std::string& split, int64_t first, int64_t n, int frames,
                             std::vector<uint8_t>* out) const {
  const auto& sp = impl_->Find(split);
  if (first < 0 || n < 0 || first + n > sp.count) {
    throw h5::Error(sp.features->where() + ": sequences [" + std::to_string(first) + ", " +
                    std::to_string(first + n) + ") asked of " + std::to_string(sp.count));
  }
  if (frames < 1 || frames > impl_->frames) {
    throw h5::Error(sp.features->where() + ": " + std::to_string(frames) +
                    " frames asked of sequences of " + std::to_string(impl_->frames));
  }
  const std::vector<hsize_t> offsets = {0, static_cast<hsize_t>(first), 0, 0, 0};
  const std::vector<hsize_t> counts = {static_cast<hsize_t>(frames), static_cast<hsize_t>(n),
                                       static_cast<hsize_t>(impl_->height),
                                       static_cast<hsize_t>(impl_->width), 1};
  const size_t total = static_cast<size_t>(frames) * static_cast<size_t>(n) *
                       static_cast<size_t>(impl_->height) * static_cast<size_t>(impl_->width);
  out->resize(total);
  if (total == 0) return;
  if (sp.integer) {
    sp.features->Read(offsets, counts, out->data(), h5::Type::kUInt8);
    for (auto& v : *out) v = v > 0 ? 1 : 0;
  } else {
    std::vector<float> values(total);
    sp.features->Read(offsets, counts, values.data(), h5::Type::kFloat32);
    for (size_t i = 0; i < total; ++i) (*out)[i] = values[i] >= 0.5f ? 1 : 0;
  }
}

}  // namespace rimlab
