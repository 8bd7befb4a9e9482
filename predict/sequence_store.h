#pragma once
// Bouncing-balls sequences held in memory for training and evaluation: binary frames, one byte a
// pixel (2,000 sequences of 51 frames at 64 x 64 are 418 MB), gathered into float batches.

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace rimlab::predict {

class SequenceStore {
 public:
  /// Sequences [0, count) of `split` of the HDF5 file at `path` (count 0: all of them), their
  /// first `frames` frames. Throws h5::Error naming the file and dataset when it cannot.
  static SequenceStore Load(const std::string& path, const std::string& split, int64_t count,
                            int frames);
  /// From memory: `pixels` holds [count][frames][size][size] 0/1 bytes.
  SequenceStore(std::vector<uint8_t> pixels, int64_t count, int frames, int size);
  SequenceStore() = default;

  int64_t count() const { return count_; }
  int frames() const { return frames_; }
  int size() const { return size_; }
  const std::string& source() const { return source_; }

  /// Frame `frame` of sequence `sequence`: size * size bytes, 0 or 1.
  const uint8_t* Frame(int64_t sequence, int frame) const {
    return pixels_.data() + (static_cast<size_t>(sequence) * static_cast<size_t>(frames_) +
                             static_cast<size_t>(frame)) *
                                static_cast<size_t>(size_) * static_cast<size_t>(size_);
  }

  /// Frames [first, first + length) of the sequences `index`, as float [length, B, S, S].
  torch::Tensor Batch(const std::vector<int64_t>& index, int first = 0, int length = -1) const;

 private:
  std::vector<uint8_t> pixels_;
  int64_t count_ = 0;
  int frames_ = 0, size_ = 0;
  std::string source_;
};

}  // namespace rimlab::predict
