#include "runners/train/policy_player.h"

#include <stdexcept>

#include "runners/train/rl_trainer.h"

namespace rimlab {

namespace {

std::vector<float> ToVector(const torch::Tensor& t) {
  auto c = t.contiguous().to(torch::kFloat32);
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

}  // namespace

std::vector<float> PolicyDecision::NullAttention() const {
  std::vector<float> out;
  const size_t row = static_cast<size_t>(set_size) + 1;
  for (size_t k = 0; k * row < input_attention.size(); ++k) out.push_back(input_attention[k * row]);
  return out;
}

PolicyPlayer::PolicyPlayer(agents::ActorCritic model, std::unique_ptr<Environment> env,
                           uint64_t seed)
    : model_(model->Replica()),
      env_(std::move(env)),
      generator_(at::detail::createCPUGenerator(seed)),
      obs_(env_->Spec().observation) {
  if (!env_->Spec().action.discrete()) {
    throw std::invalid_argument("a policy player needs discrete actions");
  }
  model_->eval();
  rim_ = model_->options().core.type == "rim";
  num_units_ = rim_ ? static_cast<int>(model_->options().core.rim.num_units()) : 0;
}

void PolicyPlayer::Reset(uint64_t env_seed) {
  env_->Seed(env_seed);
  NextEpisode();
}

void PolicyPlayer::NextEpisode() {
  ts_ = env_->Reset(obs_.Ref());
  state_ = model_->InitialState(1);
}

PolicyDecision PolicyPlayer::Decide(bool greedy) {
  torch::NoGradGuard no_grad;
  const auto& spec = env_->Spec();
  agents::ObsTensors x;
  for (int f = 0; f < obs_.num_fields(); ++f) {
    BatchView one;
    const void* ptr = obs_.data(f);
    one.size = 1;
    one.obs = &ptr;
    x.push_back(FieldTensor(one, spec.observation.fields[static_cast<size_t>(f)], 0).clone());
  }
  auto out = model_->Step(x, state_, {});
  state_ = out.state;
  auto probs = torch::softmax(out.logits, -1);
  PolicyDecision d;
  d.action =
      static_cast<int32_t>(greedy ? probs.argmax(-1).item<int64_t>()
                                  : at::multinomial(probs, 1, false, generator_).item<int64_t>());
  d.action_probs = ToVector(probs[0]);
  d.value = out.value[0].item<float>();
  if (rim_ && out.info.mask.defined()) {
    d.unit_mask = ToVector(out.info.mask[0]);
    if (out.info.input_attention.defined()) {
      const auto attention = out.info.input_attention[0];  // [K, M + 1]
      d.set_size = static_cast<int>(attention.size(1)) - 1;
      d.input_attention = ToVector(attention);
    }
  }
  if (!state_.tensors.empty()) d.hidden = ToVector(state_.tensors.front()[0]);
  return d;
}

const TimeStep& PolicyPlayer::Apply(int32_t action) {
  if (ts_.last()) throw std::logic_error("PolicyPlayer::Apply after the episode ended");
  Action a;
  a.index = action;
  ts_ = env_->Step(a, obs_.Ref());
  return ts_;
}

}  // namespace rimlab
