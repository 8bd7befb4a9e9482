#include "agents/offline_data.h"

#include <algorithm>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string>

#include "agents/rollout.h"

namespace rimlab::agents {

EpisodeStore::EpisodeStore(ObservationSpec spec, int num_actions)
    : spec_(std::move(spec)), num_actions_(num_actions) {}

void EpisodeStore::Add(StoredEpisode episode) {
  const std::string which = "episode " + std::to_string(episodes_.size());
  const auto steps = static_cast<size_t>(episode.steps());
  if (steps == 0) throw std::invalid_argument(which + " has no steps");
  if (episode.rewards.size() != steps || episode.terminations.size() != steps) {
    throw std::invalid_argument(which + ": rewards and terminations must have one entry a step");
  }
  if (episode.observations.size() != spec_.fields.size()) {
    throw std::invalid_argument(which + ": expected " + std::to_string(spec_.fields.size()) +
                                " observation fields, got " +
                                std::to_string(episode.observations.size()));
  }
  for (size_t f = 0; f < spec_.fields.size(); ++f) {
    const size_t want = spec_.fields[f].NumBytes() * (steps + 1);
    if (episode.observations[f].size() != want) {
      throw std::invalid_argument(which + ": field '" + spec_.fields[f].name + "' holds " +
                                  std::to_string(episode.observations[f].size()) +
                                  " bytes, expected " + std::to_string(want) + " (steps + 1 rows)");
    }
  }
  for (int64_t a : episode.actions) {
    if (a < 0 || a >= num_actions_) {
      throw std::invalid_argument(which + ": action " + std::to_string(a) + " outside [0, " +
                                  std::to_string(num_actions_) + ")");
    }
  }
  total_steps_ += episode.steps();
  episodes_.push_back(std::move(episode));
}

EpisodeBatch MakeEpisodeBatch(const EpisodeStore& store, const std::vector<int64_t>& ids) {
  const auto B = static_cast<int64_t>(ids.size());
  int64_t T = 0;
  for (int64_t id : ids) T = std::max(T, store.episode(id).steps());
  EpisodeBatch batch;
  const auto& fields = store.spec().fields;
  for (const auto& field : fields) {
    std::vector<int64_t> shape = {T + 1, B};
    shape.insert(shape.end(), field.shape.begin(), field.shape.end());
    batch.obs.push_back(torch::empty(shape, torch::TensorOptions().dtype(TorchDType(field.dtype))));
  }
  batch.actions = torch::zeros({T, B}, torch::kInt64);
  batch.rewards = torch::zeros({T, B});
  batch.done = torch::zeros({T, B});
  batch.mask = torch::zeros({T, B});
  auto* actions = batch.actions.data_ptr<int64_t>();
  auto* rewards = batch.rewards.data_ptr<float>();
  auto* done = batch.done.data_ptr<float>();
  auto* mask = batch.mask.data_ptr<float>();
  for (int64_t b = 0; b < B; ++b) {
    const StoredEpisode& e = store.episode(ids[static_cast<size_t>(b)]);
    const int64_t n = e.steps();
    for (size_t f = 0; f < fields.size(); ++f) {
      const size_t row = fields[f].NumBytes();
      auto* dst = static_cast<uint8_t*>(batch.obs[f].data_ptr());
      for (int64_t t = 0; t <= T; ++t) {
        // Past the episode's end, its final observation again: padding is masked out.
        const int64_t src = std::min(t, n);
        std::memcpy(dst + (t * B + b) * static_cast<int64_t>(row),
                    e.observations[f].data() + src * static_cast<int64_t>(row), row);
      }
    }
    for (int64_t t = 0; t < n; ++t) {
      actions[t * B + b] = e.actions[static_cast<size_t>(t)];
      rewards[t * B + b] = e.rewards[static_cast<size_t>(t)];
      done[t * B + b] = e.terminations[static_cast<size_t>(t)] != 0 ? 1.0f : 0.0f;
      mask[t * B + b] = 1.0f;
    }
    batch.steps += n;
  }
  return batch;
}

EpisodeSampler::EpisodeSampler(int64_t episodes, int64_t batch, uint64_t seed)
    : episodes_(episodes), batch_(batch), rng_(seed) {
  if (episodes <= 0 || batch <= 0) {
    throw std::invalid_argument("EpisodeSampler: needs at least one episode and a batch of one");
  }
  Shuffle();
}

void EpisodeSampler::Shuffle() {
  order_.resize(static_cast<size_t>(episodes_));
  for (int64_t i = 0; i < episodes_; ++i) order_[static_cast<size_t>(i)] = i;
  std::shuffle(order_.begin(), order_.end(), rng_);
  position_ = 0;
}

std::vector<int64_t> EpisodeSampler::Next() {
  std::vector<int64_t> ids;
  while (static_cast<int64_t>(ids.size()) < std::min(batch_, episodes_)) {
    if (position_ == order_.size()) Shuffle();
    ids.push_back(order_[position_++]);
  }
  return ids;
}

std::string EpisodeSampler::Save() const {
  std::ostringstream out;
  out << rng_ << ' ' << position_;
  for (int64_t id : order_) out << ' ' << id;
  return out.str();
}

void EpisodeSampler::Load(const std::string& state) {
  std::istringstream in(state);
  in >> rng_ >> position_;
  order_.assign(static_cast<size_t>(episodes_), 0);
  for (auto& id : order_) in >> id;
  if (!in || position_ > order_.size()) {
    throw std::runtime_error("the episode sampler's state does not fit this dataset");
  }
}

}  // namespace rimlab::agents
