#pragma once
/// The on-policy training loop: collects rollouts from the actor pool with a recurrent
/// actor-critic, hands them to PPO or A2C, and saves or restores everything that decides the
/// run's future (model, optimiser, core state, pool and env state, torch's RNG), so that a run
/// resumed from a checkpoint in sync mode with the same thread count continues exactly.
///
/// Frames are pool timesteps (T * N per iteration), the reset step after each episode's LAST step
/// included, as EnvPool counts them.

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agents/actor_critic.h"
#include "agents/on_policy.h"
#include "agents/rollout.h"
#include "runners/pool/actor_pool.h"

namespace rimlab {

struct EpisodeSummary {
  float episode_return = 0.0f;
  int32_t length = 0;
  bool success = false;
};

struct IterationStats {
  int64_t iteration = 0;  ///< 1-based, after this iteration
  int64_t frames = 0;     ///< total after this iteration
  double collect_seconds = 0.0;
  double update_seconds = 0.0;
  std::vector<EpisodeSummary> episodes;  ///< finished during this iteration's rollout
  agents::LossMetrics loss;

  double ReturnMean() const;
  double LengthMean() const;
  double SuccessRate() const;
};

class OnPolicyTrainer {
 public:
  /// The pool must be in sync mode. `total_frames` sets the iteration count (rounded up) for
  /// learning-rate annealing.
  OnPolicyTrainer(ActorPool* pool, agents::ActorCritic model,
                  std::unique_ptr<agents::OnPolicyAlgorithm> algorithm, int64_t total_frames);

  /// One rollout of steps() x num_envs frames, then one update.
  IterationStats RunIteration();

  /// Torch intra-op threads for the update (0: leave torch's setting alone). Collection always
  /// runs torch on one thread: a policy step on a batch of a few envs gains nothing from a
  /// second thread, and the pool's threads need the cores then.
  void set_update_threads(int threads) { update_threads_ = threads; }

  int64_t iteration() const { return iteration_; }
  int64_t frames() const { return frames_; }
  int64_t frames_per_iteration() const { return buffer_.steps * buffer_.envs; }
  int64_t num_iterations() const { return num_iterations_; }
  bool done() const { return iteration_ >= num_iterations_; }
  agents::ActorCritic& model() { return model_; }
  agents::OnPolicyAlgorithm& algorithm() { return *algorithm_; }

  /// Checkpoint contents (torch archive): model, optimiser, counters, core state, torch's RNG,
  /// and the pool's snapshot.
  void Save(torch::serialize::OutputArchive* archive) const;
  /// Throws std::runtime_error when the archive does not fit this model or pool.
  void Load(torch::serialize::InputArchive* archive);

 private:
  void Collect(IterationStats* stats);

  ActorPool* pool_;
  agents::ActorCritic model_;
  std::unique_ptr<agents::OnPolicyAlgorithm> algorithm_;
  agents::RolloutBuffer buffer_;
  const BatchView* batch_ = nullptr;  ///< the pool's latest results: the next row's input
  models::State state_;               ///< the core state before batch_'s observations
  std::vector<Action> actions_;
  int64_t iteration_ = 0;
  int64_t frames_ = 0;
  int64_t num_iterations_ = 0;
  int update_threads_ = 0;
};

/// Wraps one observation field of a batch as a tensor [size, ...field shape] without copying.
torch::Tensor FieldTensor(const BatchView& batch, const ArraySpec& field, int index);

/// One observation as a batch of one, every field copied into a tensor of its own [1, ...shape]:
/// the input of a policy stepped episode by episode (collection, unit analysis).
agents::ObsTensors SingleObservation(const Observation& obs, const ObservationSpec& spec);

/// The core state in a checkpoint archive ("num_state_tensors", "state_<i>"), for the trainers.
void WriteCoreState(torch::serialize::OutputArchive* archive, const models::State& state);
/// Reads it back into tensors shaped as `fresh`'s; throws std::runtime_error when they differ.
models::State ReadCoreState(torch::serialize::InputArchive* archive, models::State fresh);

/// Torch's default CPU generator state, for checkpoints.
torch::Tensor GetTorchRngState();
void SetTorchRngState(const torch::Tensor& state);

}  // namespace rimlab
