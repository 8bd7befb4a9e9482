#include "predict/sequence_store.h"

#include <algorithm>
#include <stdexcept>

#include "data/balls_file.h"
#include "data/hdf5_file.h"

namespace rimlab::predict {

SequenceStore SequenceStore::Load(const std::string& path, const std::string& split, int64_t count,
                                  int frames) {
  const BallsFile file = BallsFile::Open(path);
  if (!file.HasSplit(split)) throw h5::Error(path + ": no split '" + split + "'");
  if (file.height() != file.width()) {
    throw h5::Error(path + ": " + split + "/features: frames must be square, found " +
                    std::to_string(file.height()) + "x" + std::to_string(file.width()));
  }
  const int64_t available = file.Count(split);
  if (count == 0) count = available;
  if (count > available) {
    throw h5::Error(path + ": " + split + " holds " + std::to_string(available) + " sequences, " +
                    std::to_string(count) + " asked");
  }
  if (frames > file.frames()) {
    throw h5::Error(path + ": " + split + " sequences have " + std::to_string(file.frames()) +
                    " frames, " + std::to_string(frames) + " asked");
  }
  const int size = file.height();
  const size_t pixels = static_cast<size_t>(size) * static_cast<size_t>(size);
  const size_t per_sequence = static_cast<size_t>(frames) * pixels;
  std::vector<uint8_t> all(static_cast<size_t>(count) * per_sequence);
  std::vector<uint8_t> block;
  constexpr int64_t kBlock = 64;  // sequences per read: bounded memory, few HDF5 calls
  for (int64_t first = 0; first < count; first += kBlock) {
    const int64_t n = std::min(kBlock, count - first);
    file.ReadFeatures(split, first, n, frames, &block);  // [frames][n][pixels]
    for (int t = 0; t < frames; ++t) {
      for (int64_t i = 0; i < n; ++i) {
        const uint8_t* src =
            block.data() +
            (static_cast<size_t>(t) * static_cast<size_t>(n) + static_cast<size_t>(i)) * pixels;
        std::copy(src, src + pixels,
                  all.data() + static_cast<size_t>(first + i) * per_sequence +
                      static_cast<size_t>(t) * pixels);
      }
    }
  }
  SequenceStore store(std::move(all), count, frames, size);
  store.source_ = path + " (" + split + ")";
  return store;
}

SequenceStore::SequenceStore(std::vector<uint8_t> pixels, int64_t count, int frames, int size)
    : pixels_(std::move(pixels)), count_(count), frames_(frames), size_(size) {
  if (pixels_.size() != static_cast<size_t>(count) * static_cast<size_t>(frames) *
                            static_cast<size_t>(size) * static_cast<size_t>(size)) {
    throw std::invalid_argument("SequenceStore: pixel count does not match the shape");
  }
}

torch::Tensor SequenceStore::Batch(const std::vector<int64_t>& index, int first, int length) const {
  if (length < 0) length = frames_ - first;
  if (first < 0 || length < 1 || first + length > frames_) {
    throw std::out_of_range("SequenceStore::Batch: frames out of range");
  }
  const auto b = static_cast<int64_t>(index.size());
  const size_t pixels = static_cast<size_t>(size_) * static_cast<size_t>(size_);
  torch::Tensor out = torch::empty({length, b, size_, size_}, torch::kFloat);
  float* dst = out.data_ptr<float>();
  for (int64_t i = 0; i < b; ++i) {
    const int64_t s = index[static_cast<size_t>(i)];
    if (s < 0 || s >= count_) throw std::out_of_range("SequenceStore::Batch: sequence index");
    for (int t = 0; t < length; ++t) {
      const uint8_t* src = pixels_.data() + (static_cast<size_t>(s) * static_cast<size_t>(frames_) +
                                             static_cast<size_t>(first + t)) *
                                                pixels;
      float* d =
          dst + (static_cast<size_t>(t) * static_cast<size_t>(b) + static_cast<size_t>(i)) * pixels;
      for (size_t p = 0; p < pixels; ++p) d[p] = static_cast<float>(src[p]);
    }
  }
  return out;
}

}  // namespace rimlab::predict
