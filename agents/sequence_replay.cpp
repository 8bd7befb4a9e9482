#include "agents/sequence_replay.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <utility>

#include "common/state_io.h"

namespace rimlab::agents {

namespace {

// float32 -> bfloat16 by rounding to nearest, ties to even; NaN stays NaN.
uint16_t ToBfloat16(float f) {
  uint32_t bits = 0;
  std::memcpy(&bits, &f, sizeof(bits));
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return 0x7FC0;
  bits += 0x7FFFu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

float FromBfloat16(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f = 0.0f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

// A priority of 0 would make its sequence unreachable until it is evicted, and all zeros would
// leave nothing to draw from.
constexpr double kMinPriority = 1e-6;
constexpr uint32_t kVersion = 1;
const char* const kTag = "SequenceReplay";

// Messages are C strings so that the checks on every Add and lookup build no std::string.
void Require(bool ok, const char* what) {
  if (!ok) throw std::invalid_argument(std::string("SequenceReplay: ") + what);
}

void Corrupt(bool ok, const char* what) {
  if (!ok) throw std::invalid_argument(std::string("SequenceReplay: snapshot corrupt: ") + what);
}

size_t U(int64_t i) {
  return static_cast<size_t>(i);
}

}  // namespace

SequenceReplay::SequenceReplay(ReplayOptions options) : options_(std::move(options)) {
  const ReplayOptions& o = options_;
  Require(o.num_envs >= 1, "num_envs must be >= 1");
  Require(o.sequence_length >= 1, "sequence_length must be >= 1");
  Require(o.period >= 1 && o.period <= o.sequence_length,
          "period must be in [1, sequence_length], or sequences would leave gaps");
  // Slots and their links are int32; a ring that large would not fit in memory anyway.
  Require(o.capacity >= 1 && o.capacity <= std::numeric_limits<int32_t>::max(),
          "capacity must be in [1, 2^31)");
  ring_ = o.capacity / o.num_envs;
  Require(ring_ >= o.sequence_length + 1,
          "capacity / num_envs must hold a whole sequence (sequence_length + 1 timesteps)");
  Require(std::isfinite(o.priority_exponent) && o.priority_exponent >= 0,
          "priority_exponent must be finite and >= 0");
  Require(std::isfinite(o.importance_exponent) && o.importance_exponent >= 0,
          "importance_exponent must be finite and >= 0");
  Require(!o.field_bytes.empty(), "field_bytes needs at least one observation field");
  const auto steps = U(ring_ * o.num_envs);
  for (size_t fb : o.field_bytes) {
    Require(fb >= 1 && fb <= std::numeric_limits<size_t>::max() / steps,
            "every observation field needs >= 1 byte, and the ring must fit in memory");
    obs_.emplace_back(fb * steps, uint8_t{0});
  }
  types_.assign(steps, 0);
  rewards_.assign(steps, 0.0f);
  discounts_.assign(steps, 0.0f);
  actions_.assign(steps, 0);

  const auto envs = U(o.num_envs);
  added_.assign(envs, 0);
  episode_offset_.assign(envs, -1);
  head_.assign(envs, -1);
  open_head_.assign(envs, -1);
  tail_.assign(envs, -1);
  pending_.assign(envs, 0);
  pending_state_.assign(envs * o.state_floats, 0.0f);

  // With episodes longer than a sequence an env holds about ring / period closed sequences and
  // up to (L + 1) / period open ones; shorter episodes make more, and the slots grow then.
  const int64_t per_env = ring_ / o.period + (o.sequence_length + o.period) / o.period + 1;
  GrowSlots(per_env * o.num_envs);
  slot_of_.reserve(slot_id_.size());
}

int32_t SequenceReplay::TakeSlot() {
  if (free_slots_.empty()) GrowSlots(static_cast<int64_t>(slot_id_.size()) * 2);
  const int32_t slot = free_slots_.back();
  free_slots_.pop_back();
  return slot;
}

void SequenceReplay::FreeSlot(int32_t slot) {
  const auto s = U(slot);
  if (slot_id_[s] >= 0) {
    slot_of_.erase(slot_id_[s]);
    --size_;
    SetLeaf(slot, 0.0);
  }
  slot_id_[s] = -1;
  slot_env_[s] = -1;
  slot_next_[s] = -1;
  free_slots_.push_back(slot);
}

void SequenceReplay::GrowSlots(int64_t count) {
  count = std::min<int64_t>(count, std::numeric_limits<int32_t>::max());
  const int64_t old = static_cast<int64_t>(slot_id_.size());
  Require(count > old, "out of sequence slots");
  ResizeSlots(count);
  for (int64_t s = count - 1; s >= old; --s) free_slots_.push_back(static_cast<int32_t>(s));
}

void SequenceReplay::ResizeSlots(int64_t count) {
  slot_id_.resize(U(count), -1);
  slot_env_.resize(U(count), -1);
  slot_start_.resize(U(count), 0);
  slot_length_.resize(U(count), 0);
  slot_next_.resize(U(count), -1);
  slot_state_.resize(U(count) * options_.state_floats, 0);
  int64_t leaves = 1;
  while (leaves < count) leaves *= 2;
  if (leaves == leaves_) return;
  std::vector<double> tree(U(2 * leaves), 0.0);
  for (int64_t s = 0; s < std::min(leaves, leaves_); ++s) {
    tree[U(leaves + s)] = tree_[U(leaves_ + s)];
  }
  for (int64_t i = leaves - 1; i >= 1; --i) tree[U(i)] = tree[U(2 * i)] + tree[U(2 * i + 1)];
  tree_ = std::move(tree);
  leaves_ = leaves;
}

void SequenceReplay::SetLeaf(int32_t slot, double value) {
  int64_t i = leaves_ + slot;
  tree_[U(i)] = value;
  for (i /= 2; i >= 1; i /= 2) tree_[U(i)] = tree_[U(2 * i)] + tree_[U(2 * i + 1)];
}

void SequenceReplay::CloseSequence(int32_t slot) {
  const auto s = U(slot);
  const auto e = U(slot_env_[s]);
  // Open sequences close oldest first (the oldest is the first to reach L + 1 timesteps).
  if (open_head_[e] != slot) {
    throw std::logic_error("SequenceReplay: sequences closed out of order");
  }
  open_head_[e] = slot_next_[s];
  const int64_t id = next_id_++;
  slot_id_[s] = id;
  slot_of_.emplace(id, slot);
  ++size_;
  SetLeaf(slot, std::pow(max_priority_, options_.priority_exponent));
}

void SequenceReplay::EvictBefore(int env, int64_t oldest_kept) {
  const auto e = U(env);
  while (head_[e] >= 0 && slot_start_[U(head_[e])] < oldest_kept) {
    const int32_t slot = head_[e];
    head_[e] = slot_next_[U(slot)];
    if (open_head_[e] == slot) open_head_[e] = head_[e];
    if (tail_[e] == slot) tail_[e] = -1;
    FreeSlot(slot);
  }
}

void SequenceReplay::Add(int env, const void* const* obs, StepType type, float reward,
                         float discount, int32_t action, const float* state) {
  if (env < 0 || env >= options_.num_envs) {
    throw std::invalid_argument("SequenceReplay: Add: env " + std::to_string(env) + " of " +
                                std::to_string(options_.num_envs));
  }
  Require(obs != nullptr, "Add: no observation");
  Require(type == StepType::kFirst || type == StepType::kMid || type == StepType::kLast,
          "Add: not a step type");
  Require(state != nullptr || options_.state_floats == 0, "Add: no core state");
  const auto e = U(env);
  const size_t sf = options_.state_floats;
  const int64_t t = added_[e];
  // Writing timestep t overwrites t - ring_, and with it every sequence starting there or before.
  EvictBefore(env, t - ring_ + 1);

  if (type == StepType::kFirst) {
    // Only when the previous episode was cut off without a LAST (e.g. before a checkpoint).
    while (open_head_[e] >= 0) CloseSequence(open_head_[e]);
    pending_[e] = 0;
    episode_offset_[e] = 0;
  } else if (pending_[e] != 0) {
    // The previous timestep was a sequence start; the sequence is made only now that it has a
    // transition, so none is ever left holding a single timestep.
    pending_[e] = 0;
    const int32_t slot = TakeSlot();
    const auto s = U(slot);
    slot_env_[s] = env;
    slot_start_[s] = t - 1;
    slot_length_[s] = 1;
    for (size_t k = 0; k < sf; ++k)
      slot_state_[s * sf + k] = ToBfloat16(pending_state_[e * sf + k]);
    if (tail_[e] >= 0) slot_next_[U(tail_[e])] = slot;
    if (head_[e] < 0) head_[e] = slot;
    if (open_head_[e] < 0) open_head_[e] = slot;
    tail_[e] = slot;
  }

  const size_t pos = e * U(ring_) + U(t % ring_);
  for (size_t f = 0; f < obs_.size(); ++f) {
    const size_t fb = options_.field_bytes[f];
    std::memcpy(obs_[f].data() + pos * fb, obs[f], fb);
  }
  const bool last = type == StepType::kLast;
  types_[pos] = static_cast<uint8_t>(type);
  rewards_[pos] = reward;
  discounts_[pos] = discount;
  actions_[pos] = last ? 0 : action;

  for (int32_t slot = open_head_[e]; slot >= 0;) {
    const int32_t next = slot_next_[U(slot)];
    if (++slot_length_[U(slot)] == options_.sequence_length + 1 || last) CloseSequence(slot);
    slot = next;
  }

  if (episode_offset_[e] >= 0 && !last && episode_offset_[e] % options_.period == 0) {
    pending_[e] = 1;
    std::copy_n(state, sf, pending_state_.begin() + static_cast<std::ptrdiff_t>(e * sf));
  }
  if (episode_offset_[e] >= 0) ++episode_offset_[e];
  if (last) episode_offset_[e] = -1;
  ++added_[e];
}

int64_t SequenceReplay::stored_steps() const {
  int64_t n = 0;
  for (int64_t a : added_) n += std::min(a, ring_);
  return n;
}

SequenceReplay::Sample SequenceReplay::Draw(int batch, Rng* rng) const {
  if (size_ == 0) throw std::logic_error("SequenceReplay::Draw: no sequence to draw yet");
  Require(batch >= 1 && rng != nullptr, "Draw: needs batch >= 1 and an Rng");
  const double total = tree_[1];
  if (!(total > 0)) throw std::logic_error("SequenceReplay::Draw: every priority^alpha is 0");
  Sample sample;
  sample.ids.resize(U(batch));
  sample.weights.resize(U(batch));
  std::vector<double> probability(U(batch));
  double smallest = 1.0;
  for (size_t b = 0; b < U(batch); ++b) {
    double u = rng->Uniform() * total;
    int64_t node = 1;
    while (node < leaves_) {
      const double left = tree_[U(2 * node)];
      // Rounding can leave u at or past the sum on the right with nothing there; staying left
      // then keeps the draw on a positive leaf.
      if (u < left || !(tree_[U(2 * node + 1)] > 0)) {
        node = 2 * node;
      } else {
        u -= left;
        node = 2 * node + 1;
      }
    }
    sample.ids[b] = slot_id_[U(node - leaves_)];
    probability[b] = tree_[U(node)] / total;
    smallest = std::min(smallest, probability[b]);
  }
  // (N P_b)^-beta / max_j (N P_j)^-beta, and the max is at the smallest P.
  for (size_t b = 0; b < U(batch); ++b) {
    sample.weights[b] =
        static_cast<float>(std::pow(smallest / probability[b], options_.importance_exponent));
  }
  return sample;
}

void SequenceReplay::Gather(const std::vector<int64_t>& ids, Batch* out) const {
  Require(out != nullptr, "Gather: no batch");
  const size_t batch = ids.size();
  auto slot_of = [&](int64_t id) {
    const auto it = slot_of_.find(id);
    if (it == slot_of_.end()) {
      throw std::invalid_argument("SequenceReplay: Gather: sequence " + std::to_string(id) +
                                  " is not in the replay (evicted, or never made)");
    }
    return U(it->second);
  };
  int steps = 0;
  for (int64_t id : ids) steps = std::max(steps, slot_length_[slot_of(id)]);
  const size_t cells = U(steps) * batch;
  out->steps = steps;
  out->size = static_cast<int>(batch);
  out->obs.resize(obs_.size());
  for (size_t f = 0; f < obs_.size(); ++f) out->obs[f].resize(cells * options_.field_bytes[f]);
  out->actions.resize(cells);
  out->rewards.resize(cells);
  out->discounts.resize(cells);
  out->valid.resize(cells);
  out->last.resize(cells);
  const size_t sf = options_.state_floats;
  out->start_state.resize(batch * sf);
  out->first.resize(batch);
  out->env.resize(batch);
  out->start.resize(batch);

  for (size_t b = 0; b < batch; ++b) {
    const size_t s = slot_of(ids[b]);
    const auto length = U(slot_length_[s]);
    const size_t base = U(slot_env_[s]) * U(ring_);
    for (size_t t = 0; t < U(steps); ++t) {
      const bool real = t < length;
      const size_t pos =
          base + U((slot_start_[s] + static_cast<int64_t>(real ? t : length - 1)) % ring_);
      const size_t cell = t * batch + b;
      for (size_t f = 0; f < obs_.size(); ++f) {
        const size_t fb = options_.field_bytes[f];
        std::memcpy(out->obs[f].data() + cell * fb, obs_[f].data() + pos * fb, fb);
      }
      out->actions[cell] = real ? actions_[pos] : 0;
      out->rewards[cell] = real ? rewards_[pos] : 0.0f;
      out->discounts[cell] = real ? discounts_[pos] : 0.0f;
      out->valid[cell] = real ? 1 : 0;
      out->last[cell] = real && types_[pos] == static_cast<uint8_t>(StepType::kLast) ? 1 : 0;
    }
    for (size_t k = 0; k < sf; ++k)
      out->start_state[b * sf + k] = FromBfloat16(slot_state_[s * sf + k]);
    out->first[b] =
        types_[base + U(slot_start_[s] % ring_)] == static_cast<uint8_t>(StepType::kFirst);
    out->env[b] = slot_env_[s];
    out->start[b] = slot_start_[s];
  }
}

void SequenceReplay::UpdatePriorities(const std::vector<int64_t>& ids,
                                      const std::vector<float>& priorities) {
  Require(ids.size() == priorities.size(), "UpdatePriorities: ids and priorities differ in size");
  for (float p : priorities) {
    Require(std::isfinite(p) && p >= 0, "UpdatePriorities: priorities must be finite and >= 0");
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto it = slot_of_.find(ids[i]);
    if (it == slot_of_.end()) continue;
    const double p = std::max<double>(priorities[i], kMinPriority);
    max_priority_ = std::max(max_priority_, p);
    SetLeaf(it->second, std::pow(p, options_.priority_exponent));
  }
}

// Every array of the replay but the free slots (whose number varies), in the snapshot's order.
// The sizes of the slot arrays and the tree follow the slot count, which the snapshot stores first.
template <typename Self, typename Visit>
void SequenceReplay::ForEachArray(Self& self, Visit visit) {
  for (auto& field : self.obs_) visit(field);
  visit(self.types_);
  visit(self.rewards_);
  visit(self.discounts_);
  visit(self.actions_);
  visit(self.added_);
  visit(self.episode_offset_);
  visit(self.head_);
  visit(self.open_head_);
  visit(self.tail_);
  visit(self.pending_);
  visit(self.pending_state_);
  visit(self.slot_id_);
  visit(self.slot_env_);
  visit(self.slot_start_);
  visit(self.slot_length_);
  visit(self.slot_next_);
  visit(self.slot_state_);
  visit(self.tree_);
}

double SequenceReplay::BytesPerStep() const {
  size_t bytes = 0;
  ForEachArray(*this, [&](const auto& v) { bytes += v.capacity() * sizeof(v[0]); });
  bytes += free_slots_.capacity() * sizeof(int32_t);
  // libstdc++'s nodes: a next pointer and the pair, plus about a pointer of malloc overhead.
  using Entry = std::unordered_map<int64_t, int32_t>::value_type;
  bytes += slot_of_.bucket_count() * sizeof(void*) +
           slot_of_.size() * (2 * sizeof(void*) + sizeof(Entry));
  return static_cast<double>(bytes) / static_cast<double>(ring_ * options_.num_envs);
}

namespace {

void WriteOptions(const ReplayOptions& o, StateWriter* w) {
  for (int64_t v : {int64_t{o.num_envs}, o.capacity, int64_t{o.sequence_length}, int64_t{o.period},
                    static_cast<int64_t>(o.state_floats)}) {
    w->Pod(v);
  }
  w->Pod(o.priority_exponent);
  w->Pod(o.importance_exponent);
  w->Vector(std::vector<uint64_t>(o.field_bytes.begin(), o.field_bytes.end()));
}

}  // namespace

std::string SequenceReplay::Save() const {
  StateWriter w(kTag, kVersion);
  WriteOptions(options_, &w);
  w.Pod(static_cast<uint64_t>(slot_id_.size()));
  ForEachArray(*this, [&](const auto& v) { w.Vector(v); });
  w.Vector(free_slots_);
  w.Pod(next_id_);
  w.Pod(max_priority_);
  return w.Take();
}

void SequenceReplay::Load(const std::string& bytes) {
  StateReader r(bytes, kTag, kVersion);
  // The options as Save writes them, after the header the reader has already checked.
  StateWriter expected(kTag, kVersion);
  const size_t header = expected.bytes().size();
  WriteOptions(options_, &expected);
  std::string found(expected.bytes().size() - header, '\0');
  r.Raw(&found[0], found.size());
  Require(found == expected.bytes().substr(header),
          "Load: the snapshot is of a replay with other options");

  SequenceReplay fresh(options_);
  const auto slots = r.Pod<uint64_t>();
  Corrupt(slots >= 1 && slots <= U(std::numeric_limits<int32_t>::max()) && slots <= r.remaining(),
          "slot count");
  // Every array is read to the size it must have, so that no other size gets past Validate.
  fresh.ResizeSlots(static_cast<int64_t>(slots));
  ForEachArray(fresh, [&](auto& v) {
    auto read = r.Vector<typename std::decay_t<decltype(v)>::value_type>();
    Corrupt(read.size() == v.size(), "an array has the wrong size");
    v = std::move(read);
  });
  fresh.free_slots_ = r.Vector<int32_t>();
  fresh.next_id_ = r.Pod<int64_t>();
  fresh.max_priority_ = r.Pod<double>();
  r.Finish();
  // The inner nodes are sums of the leaves; recomputing them gives the saved values exactly.
  for (int64_t i = fresh.leaves_ - 1; i >= 1; --i) {
    fresh.tree_[U(i)] = fresh.tree_[U(2 * i)] + fresh.tree_[U(2 * i + 1)];
  }
  fresh.Validate();
  *this = std::move(fresh);
}

// Checks everything Add, Draw and Gather rely on, so that a corrupt snapshot is refused instead
// of reading outside the rings; rebuilds the id map and the count on the way.
void SequenceReplay::Validate() {
  const int64_t slots = static_cast<int64_t>(slot_id_.size());
  const int64_t length = options_.sequence_length + 1;
  Corrupt(std::isfinite(max_priority_) && max_priority_ > 0 && next_id_ >= 0, "counters");
  for (uint8_t type : types_) Corrupt(type <= static_cast<uint8_t>(StepType::kLast), "step type");
  // A positive leaf past the slots would let Draw return a slot that does not exist.
  for (int64_t s = 0; s < leaves_; ++s) {
    const double leaf = tree_[U(leaves_ + s)];
    Corrupt(std::isfinite(leaf) && leaf >= 0 && (s < slots || leaf == 0), "a priority");
  }
  Corrupt(std::isfinite(tree_[1]), "the priorities' sum");
  std::vector<uint8_t> seen(U(slots), 0);
  auto in_range = [&](int32_t slot) { return slot >= 0 && slot < slots && seen[U(slot)] == 0; };
  for (size_t e = 0; e < added_.size(); ++e) {
    const int64_t added = added_[e];
    Corrupt(added >= 0 && episode_offset_[e] >= -1 && pending_[e] <= 1 &&
                (pending_[e] == 0 || added >= 1),
            "env counters");
    bool open = false;
    int64_t previous_start = -1;
    int32_t previous = -1;
    for (int32_t slot = head_[e]; slot >= 0; slot = slot_next_[U(slot)]) {
      Corrupt(in_range(slot), "a sequence list");
      const auto s = U(slot);
      seen[s] = 1;
      open = open || slot == open_head_[e];
      const int64_t start = slot_start_[s];
      Corrupt(slot_env_[s] == static_cast<int32_t>(e) && start > previous_start &&
                  start >= added - ring_ && start >= 0 && slot_length_[s] >= 2 &&
                  slot_length_[s] <= length && start + slot_length_[s] <= added,
              "a sequence's place");
      if (open) {
        Corrupt(slot_id_[s] == -1 && tree_[U(leaves_ + slot)] == 0 && slot_length_[s] < length &&
                    start + slot_length_[s] == added,
                "an open sequence");
      } else {
        Corrupt(slot_id_[s] >= 0 && slot_id_[s] < next_id_ &&
                    slot_of_.emplace(slot_id_[s], slot).second,
                "a sequence id");
        ++size_;
      }
      previous_start = start;
      previous = slot;
    }
    Corrupt(tail_[e] == previous && (open || open_head_[e] == -1), "a list's ends");
  }
  for (int32_t slot : free_slots_) {
    Corrupt(in_range(slot), "the free slots");
    const auto s = U(slot);
    seen[s] = 1;
    Corrupt(slot_env_[s] == -1 && slot_id_[s] == -1 && tree_[U(leaves_ + slot)] == 0,
            "a free slot");
  }
  Corrupt(std::count(seen.begin(), seen.end(), 0) == 0, "a slot in no list");
}

}  // namespace rimlab::agents
