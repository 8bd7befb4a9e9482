#include "agents/r2d2.h"

#include <torch/csrc/autograd/variable.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace rimlab::agents {

R2d2Config R2d2ConfigFromParams(const Params& params) {
  R2d2Config c;
  ParamReader r(params, "section 'dqn'");
  c.lr = r.Float("lr", c.lr, 1e-8, 1.0);
  c.adam_eps = r.Float("adam_eps", c.adam_eps, 1e-12, 1.0);
  c.max_grad_norm = r.Float("max_grad_norm", c.max_grad_norm, 0.0, 1e9);
  c.batch_size = r.Int("batch_size", c.batch_size, 1, 1 << 16);
  c.sequence_length = r.Int("sequence_length", c.sequence_length, 1, 10000);
  c.burn_in = r.Int("burn_in", c.burn_in, 0, 10000);
  c.period = r.Int("period", c.period, 1, 10000);
  c.n_step = r.Int("n_step", c.n_step, 1, 1000);
  c.gamma = r.Float("gamma", c.gamma, 0.0, 1.0);
  c.target_period = r.Int("target_period", c.target_period, 1, int64_t{1} << 40);
  c.replay_capacity = r.Int("replay_capacity", c.replay_capacity, 1, int64_t{1} << 40);
  c.learning_starts = r.Int("learning_starts", c.learning_starts, 0, int64_t{1} << 50);
  c.frames_per_update = r.Int("frames_per_update", c.frames_per_update, 1, int64_t{1} << 30);
  c.priority_exponent = r.Float("priority_exponent", c.priority_exponent, 0.0, 10.0);
  c.importance_exponent = r.Float("importance_exponent", c.importance_exponent, 0.0, 10.0);
  c.priority_eta = r.Float("priority_eta", c.priority_eta, 0.0, 1.0);
  c.epsilon = r.Float("epsilon", c.epsilon, 0.0, 1.0);
  c.epsilon_alpha = r.Float("epsilon_alpha", c.epsilon_alpha, 0.0, 1000.0);
  c.value_rescaling = r.Bool("value_rescaling", c.value_rescaling);
  c.rescaling_eps = r.Float("rescaling_eps", c.rescaling_eps, 1e-9, 1.0);
  r.Finish();
  const auto where = [&params](const char* key) {
    const Param* p = params.Find(key);
    return p != nullptr ? p->where : std::string();
  };
  if (c.burn_in >= c.sequence_length) {
    throw OptionError(where("burn_in"), "burn_in",
                      "section 'dqn': burn_in (" + std::to_string(c.burn_in) +
                          ") must be below sequence_length (" + std::to_string(c.sequence_length) +
                          ")");
  }
  if (c.period > c.sequence_length) {
    throw OptionError(where("period"), "period",
                      "section 'dqn': period (" + std::to_string(c.period) +
                          ") must be at most sequence_length (" +
                          std::to_string(c.sequence_length) + ")");
  }
  return c;
}

double ActorEpsilon(const R2d2Config& config, int i, int n) {
  const double spread = n > 1 ? config.epsilon_alpha * i / (n - 1) : 0.0;
  return std::pow(config.epsilon, 1.0 + spread);
}

torch::Tensor ValueRescale(const torch::Tensor& x, double eps) {
  return torch::sign(x) * (torch::sqrt(torch::abs(x) + 1.0) - 1.0) + eps * x;
}

torch::Tensor ValueRescaleInverse(const torch::Tensor& x, double eps) {
  // The closed form of h's inverse (Pohlen et al., 2018, proposition A.2).
  const auto root =
      (torch::sqrt(1.0 + 4.0 * eps * (torch::abs(x) + 1.0 + eps)) - 1.0) / (2.0 * eps);
  return torch::sign(x) * (root * root - 1.0);
}

torch::Tensor NStepTargets(const torch::Tensor& rewards, const torch::Tensor& discounts,
                           const torch::Tensor& valid, const torch::Tensor& bootstrap, int64_t n,
                           double gamma) {
  const auto r = rewards.to(torch::kFloat64).contiguous();
  const auto d = discounts.to(torch::kFloat64).contiguous();
  const auto v = valid.to(torch::kFloat64).contiguous();
  const auto q = bootstrap.to(torch::kFloat64).contiguous();
  const int64_t T = r.size(0), B = r.size(1);
  auto out = torch::zeros({T, B}, torch::kFloat64);
  const auto ra = r.accessor<double, 2>(), da = d.accessor<double, 2>(),
             va = v.accessor<double, 2>(), qa = q.accessor<double, 2>();
  auto oa = out.accessor<double, 2>();
  // The sequences are short (tens of steps), so a direct loop costs nothing next to the unroll.
  for (int64_t b = 0; b < B; ++b) {
    int64_t end = -1;
    for (int64_t t = 0; t < T && va[t][b] > 0.5; ++t) end = t;
    for (int64_t t = 0; t < end; ++t) {
      const int64_t m = std::min(n, end - t);
      double sum = 0.0, scale = 1.0;
      for (int64_t k = 1; k <= m; ++k) {
        sum += scale * ra[t + k][b];
        scale *= gamma * da[t + k][b];
      }
      oa[t][b] = sum + scale * qa[t + m][b];
    }
  }
  return out.to(rewards.scalar_type());
}

namespace {

ObsTensors Rows(const ObsTensors& obs, int64_t start, int64_t length) {
  ObsTensors out;
  for (const auto& o : obs) out.push_back(o.narrow(0, start, length));
  return out;
}

}  // namespace

R2d2Loss R2d2SequenceLoss(ActorCritic& online, ActorCritic& target, const SequenceTensors& batch,
                          const R2d2Config& config) {
  const int64_t T = batch.actions.size(0), B = batch.actions.size(1);
  const int64_t burn = std::min(config.burn_in, T - 1);
  torch::Tensor q;
  if (burn > 0) {
    const auto head =
        online->Unroll(Rows(batch.obs, 0, burn), batch.start_state, torch::zeros({burn, B}));
    // Mid-episode sequences get no gradient through their burn-in: R2D2's stale-state remedy.
    models::State state = head.state;
    for (auto& s : state.tensors) {
      std::vector<int64_t> shape(static_cast<size_t>(s.dim()), 1);
      shape[0] = B;
      const auto keep = batch.first.view(shape) > 0.5;
      s = torch::where(keep, s, s.detach());
    }
    const auto tail =
        online->Unroll(Rows(batch.obs, burn, T - burn), state, torch::zeros({T - burn, B}));
    q = torch::cat({head.q, tail.q}, 0);
  } else {
    q = online->Unroll(batch.obs, batch.start_state, torch::zeros({T, B})).q;
  }
  if (!q.defined()) throw std::invalid_argument("R2D2 needs an actor-critic with a q_head");

  // Transition t -> t + 1 exists when timestep t + 1 does; mid-episode sequences skip burn-in.
  auto mask = torch::zeros({T, B});
  mask.narrow(0, 0, T - 1).copy_(batch.valid.narrow(0, 1, T - 1));
  if (burn > 0) {
    mask.narrow(0, 0, burn).mul_(batch.first.view({1, B}));
  }
  const auto q_taken = q.gather(-1, batch.actions.unsqueeze(-1)).squeeze(-1);
  torch::Tensor y;
  {
    torch::NoGradGuard no_grad;
    const auto q_target = target->Unroll(batch.obs, batch.start_state, torch::zeros({T, B})).q;
    const auto greedy = q.detach().argmax(-1, true);  // double Q: the online net picks
    auto boot = q_target.gather(-1, greedy).squeeze(-1);
    if (config.value_rescaling) boot = ValueRescaleInverse(boot, config.rescaling_eps);
    y = NStepTargets(batch.rewards, batch.discounts, batch.valid, boot, config.n_step,
                     config.gamma);
    if (config.value_rescaling) y = ValueRescale(y, config.rescaling_eps);
  }
  const auto delta = q_taken - y;
  const auto count = mask.sum();
  R2d2Loss l;
  l.loss = 0.5 * (batch.weights.view({1, B}) * mask * delta.pow(2)).sum() / count.clamp_min(1.0);
  {
    torch::NoGradGuard no_grad;
    const auto abs = delta.detach().abs() * mask;
    const auto per_count = mask.sum(0);
    const auto mean = abs.sum(0) / per_count.clamp_min(1.0);
    const auto max = std::get<0>(abs.max(0));
    auto p = (config.priority_eta * max + (1.0 - config.priority_eta) * mean)
                 .clamp_min(1e-3)
                 .to(torch::kFloat32)
                 .contiguous();
    l.priorities.assign(p.data_ptr<float>(), p.data_ptr<float>() + B);
    l.steps = static_cast<int64_t>(count.item<double>());
    const double denom = std::max<double>(1.0, static_cast<double>(l.steps));
    l.td_abs = abs.sum().item<double>() / denom;
    const auto q_plain = config.value_rescaling
                             ? ValueRescaleInverse(q_taken.detach(), config.rescaling_eps)
                             : q_taken.detach();
    l.q_mean = (q_plain * mask).sum().item<double>() / denom;
  }
  return l;
}

namespace {

std::vector<torch::Tensor> TrainedParameters(const ActorCritic& model) {
  std::vector<torch::Tensor> out;
  for (const auto& item : model->named_parameters(true)) {
    if (item.key().rfind("actor.", 0) != 0) out.push_back(item.value());
  }
  return out;
}

}  // namespace

R2d2Learner::R2d2Learner(ActorCritic model, R2d2Config config)
    : model_(std::move(model)),
      target_(model_->Copy()),
      config_(std::move(config)),
      trained_(TrainedParameters(model_)),
      optimizer_(trained_, torch::optim::AdamOptions(config_.lr).eps(config_.adam_eps)) {
  if (!model_->options().q_head) {
    throw std::invalid_argument("R2D2 needs an actor-critic with a q_head");
  }
  target_->eval();
}

R2d2Stats R2d2Learner::Update(const SequenceTensors& batch) {
  // The target network changes rarely, so its mission encoder would keep encodings made in
  // whichever batches came first, and a resumed run (whose cache starts empty) would round them
  // differently. Invalidating them every update makes each update depend on its batch alone.
  for (const auto& p : target_->parameters()) torch::autograd::impl::bump_version(p);
  model_->train();
  ZeroGrads(trained_);
  R2d2Stats s;
  s.loss = R2d2SequenceLoss(model_, target_, batch, config_);
  s.loss.loss.backward();
  s.grad_norm = optimizer_.ClipGradNorm(config_.max_grad_norm);
  optimizer_.step();
  ++updates_;
  if (updates_ % config_.target_period == 0) {
    CopyParameters(model_, target_);
  }
  return s;
}

}  // namespace rimlab::agents
