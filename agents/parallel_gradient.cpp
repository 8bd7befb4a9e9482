#include "agents/parallel_gradient.h"

#include <exception>
#include <optional>
#include <stdexcept>

#include "models/dropout_noise.h"

namespace rimlab::agents {

ChunkBatch SliceChunks(const ChunkBatch& b, int64_t begin, int64_t end) {
  const auto rows = [&](const torch::Tensor& x) { return x.slice(1, begin, end); };
  ChunkBatch out;
  for (const auto& o : b.obs) out.obs.push_back(rows(o));
  out.first = rows(b.first);
  out.mask = rows(b.mask);
  out.actions = rows(b.actions);
  out.log_probs = rows(b.log_probs);
  out.values = rows(b.values);
  out.advantages = rows(b.advantages);
  out.returns = rows(b.returns);
  for (const auto& s : b.state.tensors) out.state.tensors.push_back(s.slice(0, begin, end));
  return out;
}

ParallelGradient::ParallelGradient(ActorCritic model, int threads) : model_(std::move(model)) {
  if (threads < 1) throw std::invalid_argument("learner threads must be >= 1");
  // Dropout can run on several threads with a seed per part; other randomness (units drawn
  // without input attention) would depend on which thread draws first, so it runs on one.
  if (model_->TrainingIsRandom() && !model_->TrainingRandomIsDropoutOnly()) threads = 1;
  seed_dropout_ = model_->TrainingRandomIsDropoutOnly();
  for (int i = 1; i < threads; ++i) {
    replicas_.emplace_back(model_->Replica());
    workers_.push_back(std::make_unique<WorkerThread>());
  }
}

ParallelGradient::~ParallelGradient() = default;

MinibatchLoss ParallelGradient::Compute(const ChunkBatch& whole, const LossOptions& options) {
  for (auto& p : model_->parameters()) {
    if (p.grad().defined()) p.mutable_grad().zero_();
  }
  const int64_t chunks = whole.mask.size(1);
  const int64_t parts = std::min<int64_t>(threads(), chunks);
  if (parts <= 1) {
    auto loss = ChunkLoss(model_, whole, options);
    loss.loss.backward();
    return loss;
  }
  ChunkBatch batch = whole;
  if (options.norm_adv) NormalizeAdvantages(&batch);
  LossOptions part_options = options;
  part_options.norm_adv = false;
  const double rows = std::max(1.0, batch.mask.sum().item<double>());

  std::vector<MinibatchLoss> losses(static_cast<size_t>(parts));
  // One seed per part, drawn here in part order, so that the masks do not depend on timing.
  std::vector<uint64_t> seeds(static_cast<size_t>(parts));
  if (seed_dropout_) {
    for (auto& seed : seeds) seed = models::NextDropoutSeed();
  }
  const auto run = [&](int64_t part, ActorCritic& model) {
    std::optional<models::DropoutSeedScope> scope;
    if (seed_dropout_) scope.emplace(seeds[static_cast<size_t>(part)]);
    const int64_t begin = chunks * part / parts, end = chunks * (part + 1) / parts;
    auto loss = ChunkLoss(model, SliceChunks(batch, begin, end), part_options, rows);
    loss.loss.backward();
    loss.loss = torch::Tensor();  // frees the graph's buffers on this thread
    losses[static_cast<size_t>(part)] = std::move(loss);
  };
  for (int64_t part = 1; part < parts; ++part) {
    auto& replica = replicas_[static_cast<size_t>(part - 1)];
    // Loading a checkpoint gives the model new storage; re-point the replica (a no-op otherwise).
    ShareParameters(*model_, *replica);
    replica->train(model_->is_training());
    for (auto& p : replica->parameters()) p.mutable_grad() = torch::Tensor();
    workers_[static_cast<size_t>(part - 1)]->Start([&run, part, &replica] { run(part, replica); });
  }
  std::exception_ptr error;
  try {
    run(0, model_);
  } catch (...) {
    error = std::current_exception();
  }
  for (int64_t part = 1; part < parts; ++part) {
    try {
      workers_[static_cast<size_t>(part - 1)]->Wait();
    } catch (...) {
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);

  torch::NoGradGuard no_grad;
  auto params = model_->parameters();
  for (int64_t part = 1; part < parts; ++part) {
    auto theirs = replicas_[static_cast<size_t>(part - 1)]->parameters();
    for (size_t i = 0; i < params.size(); ++i) {
      const auto& g = theirs[i].grad();
      if (!g.defined()) continue;
      if (params[i].grad().defined()) {
        params[i].mutable_grad().add_(g);
      } else {
        params[i].mutable_grad() = g.clone();
      }
    }
  }
  MinibatchLoss total = losses[0];
  for (size_t i = 1; i < losses.size(); ++i) {
    total.policy_loss += losses[i].policy_loss;
    total.value_loss += losses[i].value_loss;
    total.entropy += losses[i].entropy;
    total.approx_kl += losses[i].approx_kl;
    total.clipfrac += losses[i].clipfrac;
  }
  return total;
}

}  // namespace rimlab::agents
