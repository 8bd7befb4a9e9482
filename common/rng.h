#pragma once
/// A small, fast random generator whose streams are identical on every platform and compiler
/// (std::uniform_int_distribution is not), so that a seed names one trajectory everywhere.

#include <array>
#include <cstdint>
#include <stdexcept>

namespace rimlab {

/// SplitMix64: used to expand one seed into well-mixed generator states.
inline uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// xoshiro256** (Blackman and Vigna), seeded through SplitMix64.
class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { Seed(seed); }

  void Seed(uint64_t seed) {
    uint64_t sm = seed;
    for (auto& w : s_) w = SplitMix64(&sm);
  }

  /// The generator's four words, for snapshots: SetState(State()) continues the same stream.
  std::array<uint64_t, 4> State() const { return {s_[0], s_[1], s_[2], s_[3]}; }
  /// Throws std::invalid_argument for the all-zero state, from which xoshiro only yields zeros.
  void SetState(const std::array<uint64_t, 4>& state) {
    if ((state[0] | state[1] | state[2] | state[3]) == 0) {
      throw std::invalid_argument("Rng: the all-zero state is not a valid xoshiro256** state");
    }
    for (size_t i = 0; i < 4; ++i) s_[i] = state[i];
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  /// Uniform integer in [0, n), n > 0, without modulo bias (Lemire's multiply-and-reject).
  uint32_t Below(uint32_t n) {
    uint64_t m = static_cast<uint64_t>(static_cast<uint32_t>(Next() >> 32)) * n;
    auto low = static_cast<uint32_t>(m);
    if (low < n) {
      const uint32_t threshold = static_cast<uint32_t>(-n) % n;
      while (low < threshold) {
        m = static_cast<uint64_t>(static_cast<uint32_t>(Next() >> 32)) * n;
        low = static_cast<uint32_t>(m);
      }
    }
    return static_cast<uint32_t>(m >> 32);
  }

  /// Uniform integer in [low, high), high > low.
  int UniformInt(int low, int high) {
    return low + static_cast<int>(Below(static_cast<uint32_t>(high - low)));
  }

  /// Uniform double in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Uniform(double low, double high) { return low + (high - low) * Uniform(); }
  bool Bernoulli(double p) { return Uniform() < p; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4] = {0, 0, 0, 0};
};

}  // namespace rimlab
