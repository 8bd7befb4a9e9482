#include "envs/balls/sequences.h"

#include <cmath>
#include <stdexcept>

#include "common/rng.h"
#include "envs/balls/render.h"

namespace rimlab::balls {

namespace {

/// Balls of radius 0.7 in a box of 10 are about 9 pixels wide in a 64-pixel frame, as in
/// R-NEM's pictures; speeds of 2-4 box units per second move them 1.3-2.6 pixels a frame.
BallWorldOptions BaseWorld() {
  BallWorldOptions o;
  o.box_size = 10.0f;
  o.min_radius = o.max_radius = 0.7f;
  o.min_speed = 2.0f;
  o.max_speed = 4.0f;
  o.frame_time = 0.1f;
  o.substeps = 8;
  return o;
}

}  // namespace

std::vector<std::string> SequenceVariantNames() {
  return {"4", "678", "curtain"};
}

SequenceVariant SequenceVariantByName(const std::string& name) {
  SequenceVariant v;
  v.name = name;
  v.world = BaseWorld();
  if (name == "4") {
    v.world.min_balls = v.world.max_balls = 4;
    v.world.min_density = 1.0f;  // masses differ up to fivefold ("balls4mass")
    v.world.max_density = 5.0f;
  } else if (name == "678") {
    v.world.min_balls = 6;
    v.world.max_balls = 8;
    v.world.min_density = 1.0f;
    v.world.max_density = 5.0f;
  } else if (name == "curtain") {
    v.world.min_balls = v.world.max_balls = 3;
    v.curtain_width = 2.5f;  // 16 of 64 pixels
  } else {
    throw std::invalid_argument("balls: unknown sequence variant '" + name +
                                "' (expected 4, 678 or curtain)");
  }
  return v;
}

void SequenceBatch::Resize(int n, int t, int s, int balls) {
  if (n < 0 || t < 1 || s < 1 || balls < 1) {
    throw std::invalid_argument("balls: a sequence batch needs frames, size and balls >= 1");
  }
  count = n;
  frames = t;
  size = s;
  max_balls = balls;
  const size_t frames_total = static_cast<size_t>(n) * static_cast<size_t>(t);
  features.assign(frames_total * pixels(), 0);
  groups.assign(frames_total * pixels(), 0);
  positions.assign(frames_total * static_cast<size_t>(balls) * 2, 0.0f);
  velocities.assign(frames_total * static_cast<size_t>(balls) * 2, 0.0f);
  collisions.assign(frames_total * static_cast<size_t>(balls), 0);
  ball_counts.assign(static_cast<size_t>(n), 0);
}

uint64_t SequenceSeed(uint64_t seed, int split, int64_t index) {
  uint64_t state = seed ^ (0x9E3779B97F4A7C15ull * static_cast<uint64_t>(split + 1));
  SplitMix64(&state);
  state ^= static_cast<uint64_t>(index);
  return SplitMix64(&state);
}

void GenerateSequence(const SequenceVariant& variant, uint64_t seed, int slot,
                      SequenceBatch* batch) {
  if (slot < 0 || slot >= batch->count) throw std::out_of_range("balls: sequence slot");
  if (variant.world.max_balls > batch->max_balls) {
    throw std::invalid_argument("balls: the batch holds fewer balls than the variant draws");
  }
  BallWorld world(variant.world);
  world.Reset(seed);
  const Curtain curtain =
      variant.curtain_width > 0.0f
          ? RandomCurtain(seed ^ 0xC0FFEEull, variant.world.box_size, variant.curtain_width)
          : Curtain{};
  const int n = world.num_balls();
  const auto b = static_cast<size_t>(batch->max_balls);
  const auto slot_frames = static_cast<size_t>(slot) * static_cast<size_t>(batch->frames);
  batch->ball_counts[static_cast<size_t>(slot)] = n;
  const float inv = 1.0f / variant.world.box_size;
  const float per_frame = variant.world.frame_time * inv;  // velocity in box sizes per frame
  std::vector<Ball> previous = world.Balls();
  std::vector<uint8_t> labels;
  for (int t = 0; t < batch->frames; ++t) {
    if (t > 0) world.Step();
    const size_t f = slot_frames + static_cast<size_t>(t);
    RenderGroups(world, batch->size, curtain, &labels);
    uint8_t* feat = batch->features.data() + f * batch->pixels();
    uint8_t* grp = batch->groups.data() + f * batch->pixels();
    for (size_t p = 0; p < labels.size(); ++p) {
      grp[p] = labels[p];
      feat[p] = labels[p] > 0 ? 1 : 0;
    }
    const std::vector<Ball> now = world.Balls();
    for (int i = 0; i < n; ++i) {
      const Ball& ball = now[static_cast<size_t>(i)];
      const size_t k = f * b + static_cast<size_t>(i);
      batch->positions[2 * k] = ball.x * inv;
      batch->positions[2 * k + 1] = 1.0f - ball.y * inv;
      batch->velocities[2 * k] = ball.vx * per_frame;
      batch->velocities[2 * k + 1] = -ball.vy * per_frame;
      const Ball& before = previous[static_cast<size_t>(i)];
      batch->collisions[k] = (t > 0 && (ball.vx != before.vx || ball.vy != before.vy)) ? 1 : 0;
    }
    previous = now;
  }
}

}  // namespace rimlab::balls
