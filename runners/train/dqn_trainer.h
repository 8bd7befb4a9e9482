#pragma once
/// The recurrent DQN loop (R2D2-style, agents/r2d2.h): the actor pool's envs act epsilon-greedily
/// on the online network's Q, each with its own Ape-X epsilon and its own core state; every
/// timestep goes into the sequence replay with the state fed in with it; after `learning_starts`
/// frames, one learner update per `frames_per_update` frames. Everything that decides the run's
/// future is saved (networks, optimiser, replay and its priorities, core states, the pool, the
/// generators), so a resumed run continues exactly.

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "agents/r2d2.h"
#include "agents/sequence_replay.h"
#include "common/rng.h"
#include "runners/pool/actor_pool.h"
#include "runners/train/rl_trainer.h"

namespace rimlab {

struct DqnIterationStats {
  int64_t frames = 0;  ///< total after this iteration
  double collect_seconds = 0.0;
  double update_seconds = 0.0;
  std::vector<EpisodeSummary> episodes;  ///< finished during this iteration
  bool updated = false;                  ///< a learner update ran
  agents::R2d2Stats update;
  int64_t updates = 0;  ///< learner updates so far
  int64_t replay_sequences = 0;
  int64_t replay_steps = 0;
};

class DqnTrainer {
 public:
  /// The pool must be in sync mode; `model` needs a q_head.
  DqnTrainer(ActorPool* pool, agents::ActorCritic model, agents::R2d2Config config,
             int64_t total_frames, uint64_t seed);

  /// ceil(frames_per_update / num_envs) pool steps, then one update once learning has started.
  DqnIterationStats RunIteration();

  void set_update_threads(int threads) { update_threads_ = threads; }
  int64_t frames() const { return frames_; }
  int64_t frames_per_iteration() const { return steps_per_iteration_ * pool_->num_envs(); }
  int64_t num_iterations() const { return num_iterations_; }
  int64_t iteration() const { return iteration_; }
  bool done() const { return iteration_ >= num_iterations_; }
  agents::ActorCritic& model() { return model_; }
  agents::R2d2Learner& learner() { return learner_; }
  const agents::SequenceReplay& replay() const { return *replay_; }
  /// The actors' epsilons, in env order.
  const std::vector<double>& epsilons() const { return epsilons_; }

  void Save(torch::serialize::OutputArchive* archive) const;
  /// Throws std::runtime_error when the archive does not fit this model, pool or replay.
  void Load(torch::serialize::InputArchive* archive);

 private:
  void ActorStep(DqnIterationStats* stats);
  void Learn(DqnIterationStats* stats);

  ActorPool* pool_;
  agents::ActorCritic model_;
  agents::R2d2Learner learner_;
  agents::R2d2Config config_;
  std::unique_ptr<agents::SequenceReplay> replay_;
  agents::SequenceReplay::Batch gathered_;
  std::vector<double> epsilons_;
  Rng actor_rng_;   ///< exploration
  Rng replay_rng_;  ///< sampling
  const BatchView* batch_ = nullptr;
  models::State state_;  ///< the core state before batch_'s observations
  std::vector<Action> actions_;
  std::vector<float> state_row_;
  int64_t steps_per_iteration_ = 1;
  int64_t num_iterations_ = 0;
  int64_t iteration_ = 0;
  int64_t frames_ = 0;
  int update_threads_ = 0;
};

}  // namespace rimlab
