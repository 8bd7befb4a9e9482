#pragma once
/// Prioritised sequence replay for a recurrent DQN (R2D2, Kapturowski et al. 2019), torch-free.
///
/// A learner of a recurrent Q-network needs whole stretches of an episode together with the core
/// state the actor had at their start. Sequences overlap (a new one every `period` timesteps of an
/// episode, L transitions long), so storing each as its own array would keep every observation
/// L / period times. Here each timestep is stored once, in its env's ring, and a sequence is only
/// a reference (env, first timestep, length) plus the start state: the overlap costs a few bytes
/// per sequence, not observations.
///
/// Sequences never cross an episode boundary: they start at offsets 0, period, 2 period... from
/// the episode's FIRST, hold up to L + 1 timesteps and stop at the episode's LAST. A sequence that
/// would start on a LAST, or that a new FIRST cuts to a single timestep, has no transition and is
/// not made. A sequence is sampleable once closed, and evicted when its env's ring overwrites its
/// first timestep (the oldest it references).

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/rng.h"
#include "envs/core/timestep.h"

namespace rimlab::agents {

struct ReplayOptions {
  int num_envs = 1;
  /// Timesteps kept in total, split evenly over the envs (each env a ring of capacity / num_envs).
  int64_t capacity = 100000;
  /// L: transitions per sequence, so up to L + 1 timesteps.
  int sequence_length = 40;
  /// A new sequence starts every `period` timesteps of an episode (overlap L - period).
  int period = 20;
  /// alpha: P(i) proportional to p_i^alpha.
  double priority_exponent = 0.9;
  /// beta: importance weight (N P(i))^-beta, divided by the largest in the sample.
  double importance_exponent = 0.6;
  /// Bytes of each observation field for one env.
  std::vector<size_t> field_bytes;
  size_t state_floats = 0;
};

class SequenceReplay {
 public:
  /// Throws std::invalid_argument on options that cannot work (period > L, a ring shorter than
  /// L + 1 timesteps, no observation fields, negative exponents...).
  explicit SequenceReplay(ReplayOptions options);

  /// One timestep of env `env`: its observation (one pointer per field, field_bytes each), type,
  /// the reward and discount that came with it, the action taken on it (stored as 0 on a LAST,
  /// where it means nothing) and the core state fed in with it (state_floats; may be null when
  /// state_floats is 0). Timesteps before an env's first FIRST, or between a LAST and the next
  /// FIRST, are stored but start no sequence. Throws std::invalid_argument on a bad env.
  void Add(int env, const void* const* obs, StepType type, float reward, float discount,
           int32_t action, const float* state);

  /// Sequences that can be sampled now.
  int64_t size() const { return size_; }
  /// Timesteps held, over all envs.
  int64_t stored_steps() const;
  int64_t steps_per_env() const { return ring_; }
  const ReplayOptions& options() const { return options_; }

  struct Sample {
    std::vector<int64_t> ids;
    std::vector<float> weights;
  };
  /// `batch` sequences drawn with replacement, proportional to priority^alpha; weights are the
  /// importance weights normalised by their max over the sample. Throws std::logic_error when
  /// size() == 0, std::invalid_argument when batch < 1.
  Sample Draw(int batch, Rng* rng) const;

  struct Batch {
    int steps = 0;  ///< T: the longest sampled sequence's timesteps (<= L + 1)
    int size = 0;   ///< B
    /// Per field, [T][B][field_bytes], time-major; padding repeats the last real timestep.
    std::vector<std::vector<uint8_t>> obs;
    std::vector<int32_t> actions;  ///< [T][B], 0 on padding and on LAST
    /// [T][B]: the reward that came WITH timestep t (the transition t -> t+1 earns rewards[t+1]);
    /// 0 on padding.
    std::vector<float> rewards;
    std::vector<float> discounts;  ///< [T][B]: the discount that came with timestep t; 0 on padding
    std::vector<uint8_t> valid;    ///< [T][B]: 1 where a real timestep is
    std::vector<uint8_t> last;     ///< [T][B]: 1 where the timestep is a LAST
    /// [B][state_floats], each value rounded to bfloat16 (8 significant bits, nearest even).
    std::vector<float> start_state;
    std::vector<uint8_t> first;  ///< [B]: 1 when the sequence starts at its episode's FIRST
    std::vector<int32_t> env;    ///< [B]: the env it came from
    std::vector<int64_t> start;  ///< [B]: its first timestep's index in that env's stream
  };
  /// Copies the sequences `ids` (as drawn) into `out`, reusing its buffers. Throws
  /// std::invalid_argument on an id that is not sampleable (evicted, or never made).
  void Gather(const std::vector<int64_t>& ids, Batch* out) const;
  /// Whether `id` names a sequence that can be gathered now.
  bool Contains(int64_t id) const { return slot_of_.count(id) > 0; }

  /// New priorities (>= 0, finite) for sampled sequences; ids evicted since they were drawn are
  /// skipped. Priorities below 1e-6 are raised to it, so that no stored sequence becomes
  /// unreachable. Throws std::invalid_argument when the sizes differ or a priority is bad.
  void UpdatePriorities(const std::vector<int64_t>& ids, const std::vector<float>& priorities);

  /// Bytes the replay holds (every array: rings, sequences, sum tree, id map) per timestep of the
  /// rings. Sequence slots grow when episodes are much shorter than `period` (more sequences per
  /// timestep), so the figure can rise in that case.
  double BytesPerStep() const;

  /// Exact snapshot: stored timesteps, sequences, priorities, ids and counters.
  std::string Save() const;
  /// Restores a Save of a replay with the same options. Throws std::invalid_argument (and leaves
  /// this replay as it was) on bytes that are truncated, corrupt or of other options.
  void Load(const std::string& bytes);

 private:
  int32_t TakeSlot();
  void FreeSlot(int32_t slot);
  void GrowSlots(int64_t count);
  void ResizeSlots(int64_t count);
  void SetLeaf(int32_t slot, double value);
  void CloseSequence(int32_t slot);
  void EvictBefore(int env, int64_t oldest_kept);
  void Validate();
  template <typename Self, typename Visit>
  static void ForEachArray(Self& self, Visit visit);

  ReplayOptions options_;
  int64_t ring_ = 0;  // timesteps per env

  // Per env, per ring position. Observations per field, env-major: [env][position][bytes].
  std::vector<std::vector<uint8_t>> obs_;
  std::vector<uint8_t> types_;
  std::vector<float> rewards_;
  std::vector<float> discounts_;
  std::vector<int32_t> actions_;

  // Per env. A sequence's timesteps are named by their index in the env's stream (0, 1, ...),
  // so that the ring position is index % ring_ and overwriting is a comparison.
  std::vector<int64_t> added_;           // timesteps added so far
  std::vector<int64_t> episode_offset_;  // offset of the next timestep in its episode; -1: none
  // Each env's sequences form a list through slot_next_ in order of their first timestep, which
  // is also the order they close and are evicted in: head_ is the oldest, open_head_ the oldest
  // still open (-1: none), tail_ the newest.
  std::vector<int32_t> head_, open_head_, tail_;
  // Whether the env's previous timestep starts a sequence, and the state given with it: the
  // sequence is made when a next timestep of the same episode arrives.
  std::vector<uint8_t> pending_;
  std::vector<float> pending_state_;  // [env][state_floats]

  // Per sequence slot. A slot is free (env -1), open (id -1) or sampleable.
  std::vector<int64_t> slot_id_;
  std::vector<int32_t> slot_env_;
  std::vector<int64_t> slot_start_;
  std::vector<int32_t> slot_length_;
  std::vector<int32_t> slot_next_;
  // [slot][state_floats] as bfloat16: the state is what the actor had, already stale for the
  // learner (burn-in is the remedy), and 16 bits keep a RIM's 192-float state under 0.3x of a
  // gridworld observation per stored step, where 32 bits made it 0.5x.
  std::vector<uint16_t> slot_state_;
  std::vector<int32_t> free_slots_;  // a stack; the lowest slot on top after growing

  // Sum tree over the slots: leaves_ leaves at tree_[leaves_ + slot] hold priority^alpha, 0 for
  // free and open slots; every inner node is recomputed as the sum of its children, so the tree
  // is a function of its leaves alone.
  int64_t leaves_ = 0;
  std::vector<double> tree_;

  std::unordered_map<int64_t, int32_t> slot_of_;  // sampleable id -> slot
  int64_t next_id_ = 0;
  int64_t size_ = 0;
  double max_priority_ = 1.0;
};

}  // namespace rimlab::agents
