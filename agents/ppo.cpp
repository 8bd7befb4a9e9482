#include "agents/ppo.h"

#include "agents/losses.h"

namespace rimlab::agents {

PpoConfig PpoConfigFromParams(const Params& params, int64_t num_envs) {
  PpoConfig c;
  ParamReader r(params, "ppo");
  constexpr int64_t kBig = int64_t{1} << 30;
  c.steps = r.Int("steps", c.steps, 1, kBig);
  c.epochs = r.Int("epochs", c.epochs, 1, 10000);
  c.batch_size = r.Int("batch_size", c.batch_size, 1, kBig);
  c.recurrence = r.Int("recurrence", c.recurrence, 1, kBig);
  c.lr = r.Float("lr", c.lr, 0.0, 10.0);
  c.adam_eps = r.Float("adam_eps", c.adam_eps, 0.0, 1.0);
  c.anneal_lr = r.Bool("anneal_lr", c.anneal_lr);
  c.gamma = r.Float("gamma", c.gamma, 0.0, 1.0);
  c.gae_lambda = r.Float("gae_lambda", c.gae_lambda, 0.0, 1.0);
  c.clip = r.Float("clip", c.clip, 1e-6, 10.0);
  c.clip_value = r.Bool("clip_value", c.clip_value);
  c.entropy_coef = r.Float("entropy_coef", c.entropy_coef, 0.0, 100.0);
  c.value_coef = r.Float("value_coef", c.value_coef, 0.0, 100.0);
  c.max_grad_norm = r.Float("max_grad_norm", c.max_grad_norm, 0.0, 1e9);
  c.norm_adv = r.Bool("norm_adv", c.norm_adv);
  c.target_kl = r.Float("target_kl", c.target_kl, 0.0, 100.0);
  if (c.steps % c.recurrence != 0) {
    r.Fail("recurrence", "steps (" + std::to_string(c.steps) +
                             ") must be a multiple of recurrence (" + std::to_string(c.recurrence) +
                             ")");
  }
  if (c.batch_size % c.recurrence != 0) {
    r.Fail("batch_size", "batch_size (" + std::to_string(c.batch_size) +
                             ") must be a multiple of recurrence (" + std::to_string(c.recurrence) +
                             ")");
  }
  if ((c.steps * num_envs) % c.batch_size != 0) {
    r.Fail("batch_size", "steps * num_envs (" + std::to_string(c.steps * num_envs) +
                             ") must be a multiple of batch_size (" + std::to_string(c.batch_size) +
                             ")");
  }
  r.Finish();
  return c;
}

Ppo::Ppo(ActorCritic model, PpoConfig config)
    : model_(std::move(model)),
      config_(config),
      optimizer_(model_->parameters(), torch::optim::AdamOptions(config.lr).eps(config.adam_eps)),
      gradient_(std::make_unique<ParallelGradient>(model_, 1)) {}

int Ppo::set_learner_threads(int threads) {
  gradient_ = std::make_unique<ParallelGradient>(model_, threads);
  return gradient_->threads();
}

LossMetrics Ppo::Update(RolloutBuffer* buffer, double progress) {
  const auto& c = config_;
  const double lr = c.anneal_lr ? c.lr * (1.0 - progress) : c.lr;
  SetLearningRate(optimizer_, lr);
  ComputeAdvantages(buffer, c.gamma, c.gae_lambda);

  LossOptions loss_options;
  loss_options.clip = c.clip;
  loss_options.clip_value = c.clip_value;
  loss_options.entropy_coef = c.entropy_coef;
  loss_options.value_coef = c.value_coef;
  loss_options.norm_adv = c.norm_adv;
  loss_options.fused = fused_;

  const int64_t num_chunks = buffer->steps / c.recurrence * buffer->envs;
  const int64_t chunks_per_batch = c.batch_size / c.recurrence;
  model_->train();
  double policy = 0, value = 0, entropy = 0, kl = 0, clipfrac = 0, grad_norm = 0;
  int64_t n = 0;
  bool stop = false;
  for (int64_t epoch = 0; epoch < c.epochs && !stop; ++epoch) {
    auto order = torch::randperm(num_chunks, torch::kInt64);
    double epoch_kl = 0;
    int64_t epoch_n = 0;
    for (int64_t start = 0; start < num_chunks; start += chunks_per_batch) {
      auto ids = order.slice(0, start, std::min(start + chunks_per_batch, num_chunks));
      const ChunkBatch mb = GatherChunks(*buffer, ids, c.recurrence);
      const auto loss = gradient_->Compute(mb, loss_options);
      grad_norm += optimizer_.ClipGradNorm(c.max_grad_norm);
      optimizer_.step();
      policy += loss.policy_loss;
      value += loss.value_loss;
      entropy += loss.entropy;
      kl += loss.approx_kl;
      clipfrac += loss.clipfrac;
      epoch_kl += loss.approx_kl;
      ++n;
      ++epoch_n;
    }
    if (c.target_kl > 0.0 && epoch_kl / static_cast<double>(epoch_n) > c.target_kl) stop = true;
  }
  LossMetrics m;
  const auto dn = static_cast<double>(n);
  m.policy_loss = policy / dn;
  m.value_loss = value / dn;
  m.entropy = entropy / dn;
  m.approx_kl = kl / dn;
  m.clipfrac = clipfrac / dn;
  m.grad_norm = grad_norm / dn;
  m.learning_rate = lr;
  m.explained_variance = ExplainedVariance(buffer->values, buffer->returns, buffer->DecisionMask());
  return m;
}

}  // namespace rimlab::agents
