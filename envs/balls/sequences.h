#pragma once
// Sequences of bouncing-balls frames for the RIM paper's next-frame prediction experiment, in the
// three variants of Relational-NEM's data: `4` (four balls of different masses; training),
// `678` (six to eight balls; transfer) and `curtain` (three balls and an opaque band placed at
// random per sequence). What each variant draws is ours (R-NEM's generator is not public); the
// options are in SequenceVariantByName and docs/balls.md.
//
// Per sequence and frame: the binary frame (features), each pixel's label (groups: 0 background,
// i + 1 ball i, balls + 1 the curtain), each ball's position and velocity in box units scaled to
// [0, 1] with y pointing down as in the image, and whether the ball collided (its velocity
// changed: with no gravity or friction nothing else changes it).

#include <cstdint>
#include <string>
#include <vector>

#include "envs/balls/ball_world.h"

namespace rimlab::balls {

struct SequenceVariant {
  std::string name;
  BallWorldOptions world;
  float curtain_width = 0.0f;  ///< world units; 0: no curtain
};

std::vector<std::string> SequenceVariantNames();
/// Throws std::invalid_argument naming the known variants.
SequenceVariant SequenceVariantByName(const std::string& name);

/// `count` sequences of `frames` frames of size x size pixels, sequence-major.
struct SequenceBatch {
  int count = 0, frames = 0, size = 0, max_balls = 0;
  std::vector<uint8_t> features;     ///< [count][frames][size][size], 0 or 1
  std::vector<uint8_t> groups;       ///< [count][frames][size][size]
  std::vector<float> positions;      ///< [count][frames][max_balls][2]; 0 past a sequence's balls
  std::vector<float> velocities;     ///< [count][frames][max_balls][2], box sizes per frame
  std::vector<uint8_t> collisions;   ///< [count][frames][max_balls]
  std::vector<int32_t> ball_counts;  ///< [count]

  void Resize(int count, int frames, int size, int max_balls);
  size_t pixels() const { return static_cast<size_t>(size) * static_cast<size_t>(size); }
};

/// The seed of sequence `index` of a split: every sequence is independent of the others, so a
/// dataset is the same whatever the thread count or batch size that wrote it.
uint64_t SequenceSeed(uint64_t seed, int split, int64_t index);

/// Simulates one sequence into slot `slot` of `batch` (already Resize'd).
void GenerateSequence(const SequenceVariant& variant, uint64_t seed, int slot,
                      SequenceBatch* batch);

}  // namespace rimlab::balls
