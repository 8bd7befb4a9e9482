#pragma once
// Bouncing-balls sequences on disk in Relational-NEM's layout, so that our files and R-NEM's
// balls4mass64.h5, balls678mass64.h5 and balls3curtain64.h5 are interchangeable:
//
//   /training, /validation, /test        one group per split
//     features    (T, N, H, W, 1)        binary frames (we write uint8; R-NEM's may be float)
//     groups      (T, N, H, W, 1)        per-pixel labels: 0 background, i + 1 ball i
//     positions   (T, N, B, 2)  float32  box units scaled to [0, 1], y down  (ours)
//     velocities  (T, N, B, 2)  float32  box sizes per frame                 (ours)
//     collisions  (T, N, B)     uint8    1 when the ball's velocity changed   (ours)
//     ball_counts (N,)          int32    balls in each sequence              (ours)
//
// R-NEM's loader reads `f['training']['features'][:T, i:i+B]`, time first; so does ours. Frames
// are stored gzip-compressed in one chunk per sequence (binary frames shrink about 30-fold).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "envs/balls/sequences.h"

namespace rimlab {

inline const std::vector<std::string>& BallsSplits() {
  static const std::vector<std::string> splits = {"training", "validation", "test"};
  return splits;
}

/// Writes a file split by split, batch by batch. The file is written under FILE.partial and
/// renamed over FILE only by Finish(), so a failed or interrupted run leaves an earlier FILE as
/// it was.
class BallsFileWriter {
 public:
  /// counts[i]: sequences of BallsSplits()[i].
  BallsFileWriter(const std::string& path, const std::vector<int64_t>& counts, int frames, int size,
                  int max_balls);
  ~BallsFileWriter();
  BallsFileWriter(const BallsFileWriter&) = delete;
  BallsFileWriter& operator=(const BallsFileWriter&) = delete;

  /// Root attributes describing how the file was made.
  void SetAttribute(const std::string& name, const std::string& value);
  void SetAttribute(const std::string& name, int64_t value);
  void SetAttribute(const std::string& name, double value);
  /// Sequences [first, first + batch.count) of split `split` (an index into BallsSplits()).
  void Write(int split, int64_t first, const balls::SequenceBatch& batch);
  void Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// A file in R-NEM's layout opened for reading; every split present is validated on Open.
class BallsFile {
 public:
  /// Throws h5::Error (an invalid_argument) naming the file and the dataset when the file is
  /// not HDF5, has no split, or a `features` dataset that is not (T, N, H, W, 1) of numbers, or
  /// splits that differ in T, H or W.
  static BallsFile Open(const std::string& path);
  ~BallsFile();
  BallsFile(BallsFile&&) noexcept;
  BallsFile& operator=(BallsFile&&) noexcept;

  const std::string& path() const;
  bool HasSplit(const std::string& split) const;
  int64_t Count(const std::string& split) const;
  int frames() const;
  int height() const;
  int width() const;
  /// Frames [0, frames) of sequences [first, first + n) of `split`, time-major as the models
  /// take them: out[t][i][y][x], 1 where the stored value is at least 0.5.
  void ReadFeatures(const std::string& split, int64_t first, int64_t n, int frames,
                    std::vector<uint8_t>* out) const;

 private:
  BallsFile();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rimlab
