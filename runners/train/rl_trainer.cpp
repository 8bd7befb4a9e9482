#include "runners/train/rl_trainer.h"

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>
#include <stdexcept>

namespace rimlab {

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

torch::Tensor Int64Scalar(int64_t v) {
  return torch::tensor({v}, torch::kInt64);
}

double Mean(const std::vector<EpisodeSummary>& eps, double (*get)(const EpisodeSummary&)) {
  if (eps.empty()) return std::numeric_limits<double>::quiet_NaN();
  double sum = 0.0;
  for (const auto& e : eps) sum += get(e);
  return sum / static_cast<double>(eps.size());
}

}  // namespace

double IterationStats::ReturnMean() const {
  return Mean(episodes, [](const EpisodeSummary& e) { return double{e.episode_return}; });
}
double IterationStats::LengthMean() const {
  return Mean(episodes, [](const EpisodeSummary& e) { return double(e.length); });
}
double IterationStats::SuccessRate() const {
  return Mean(episodes, [](const EpisodeSummary& e) { return e.success ? 1.0 : 0.0; });
}

torch::Tensor FieldTensor(const BatchView& batch, const ArraySpec& field, int index) {
  std::vector<int64_t> shape = {batch.size};
  shape.insert(shape.end(), field.shape.begin(), field.shape.end());
  return torch::from_blob(const_cast<void*>(batch.obs[index]), shape,
                          agents::TorchDType(field.dtype));
}

agents::ObsTensors SingleObservation(const Observation& obs, const ObservationSpec& spec) {
  agents::ObsTensors x;
  for (int f = 0; f < obs.num_fields(); ++f) {
    BatchView one;
    const void* ptr = obs.data(f);
    one.size = 1;
    one.obs = &ptr;
    x.push_back(FieldTensor(one, spec.fields[static_cast<size_t>(f)], 0).clone());
  }
  return x;
}

void WriteCoreState(torch::serialize::OutputArchive* archive, const models::State& state) {
  archive->write("num_state_tensors", Int64Scalar(static_cast<int64_t>(state.tensors.size())));
  for (size_t i = 0; i < state.tensors.size(); ++i) {
    archive->write("state_" + std::to_string(i), state.tensors[i]);
  }
}

models::State ReadCoreState(torch::serialize::InputArchive* archive, models::State fresh) {
  torch::Tensor count;
  archive->read("num_state_tensors", count);
  if (count.item<int64_t>() != static_cast<int64_t>(fresh.tensors.size())) {
    throw std::runtime_error("checkpoint: its core state does not fit this model");
  }
  for (size_t i = 0; i < fresh.tensors.size(); ++i) {
    torch::Tensor t;  // read() into a defined tensor would copy into its storage
    archive->read("state_" + std::to_string(i), t);
    if (!t.sizes().equals(fresh.tensors[i].sizes())) {
      throw std::runtime_error("checkpoint: its core state does not fit this model or pool");
    }
    fresh.tensors[i] = t;
  }
  return fresh;
}

torch::Tensor GetTorchRngState() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void SetTorchRngState(const torch::Tensor& state) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

OnPolicyTrainer::OnPolicyTrainer(ActorPool* pool, agents::ActorCritic model,
                                 std::unique_ptr<agents::OnPolicyAlgorithm> algorithm,
                                 int64_t total_frames)
    : pool_(pool),
      model_(std::move(model)),
      algorithm_(std::move(algorithm)),
      buffer_(pool->spec(), algorithm_->steps(), pool->num_envs()),
      actions_(static_cast<size_t>(pool->num_envs())) {
  if (!pool_->sync()) {
    throw std::invalid_argument(
        "pool.batch_size: on-policy training needs the sync pool (batch_size 0 or num_envs)");
  }
  const int64_t per_iteration = frames_per_iteration();
  num_iterations_ = std::max<int64_t>(1, (total_frames + per_iteration - 1) / per_iteration);
  batch_ = &pool_->Reset();
  state_ = model_->InitialState(pool_->num_envs());
}

void OnPolicyTrainer::Collect(IterationStats* stats) {
  c10::InferenceMode inference;
  model_->eval();
  const auto& fields = pool_->spec().observation.fields;
  const int64_t n = buffer_.envs;
  agents::ObsTensors row(fields.size());
  for (int64_t t = 0; t < buffer_.steps; ++t) {
    for (size_t f = 0; f < fields.size(); ++f) {
      row[f] = buffer_.obs[f][t];
      row[f].copy_(FieldTensor(*batch_, fields[f], static_cast<int>(f)));
    }
    float* first = buffer_.first[t].data_ptr<float>();
    float* last = buffer_.last[t].data_ptr<float>();
    for (int64_t i = 0; i < n; ++i) {
      first[i] = batch_->step_type[i] == StepType::kFirst ? 1.0f : 0.0f;
      last[i] = batch_->step_type[i] == StepType::kLast ? 1.0f : 0.0f;
    }
    buffer_.StoreState(t, state_);
    auto out = model_->Step(row, state_, buffer_.first[t]);
    auto actions = torch::multinomial(torch::softmax(out.logits, -1), 1).squeeze(1);
    buffer_.actions[t].copy_(actions);
    buffer_.log_probs[t].copy_(agents::LogProbs(out.logits, actions));
    buffer_.values[t].copy_(out.value);
    state_ = std::move(out.state);
    const int64_t* a = buffer_.actions[t].data_ptr<int64_t>();
    for (int64_t i = 0; i < n; ++i)
      actions_[static_cast<size_t>(i)].index = static_cast<int32_t>(a[i]);

    batch_ = &pool_->Step(actions_.data());
    float* reward = buffer_.rewards[t].data_ptr<float>();
    float* discount = buffer_.discounts[t].data_ptr<float>();
    for (int64_t i = 0; i < n; ++i) {
      reward[i] = batch_->reward[i];
      discount[i] = batch_->discount[i];
      if (batch_->step_type[i] == StepType::kLast) {
        stats->episodes.push_back(
            {batch_->episode_return[i], batch_->episode_length[i], batch_->success[i] != 0});
      }
    }
  }
  // V of the observation after the last row; the state is not advanced: that observation is the
  // next rollout's first row.
  for (size_t f = 0; f < fields.size(); ++f) {
    row[f] = FieldTensor(*batch_, fields[f], static_cast<int>(f)).clone();
  }
  auto first = torch::zeros({n});
  for (int64_t i = 0; i < n; ++i) {
    first[i] = batch_->step_type[i] == StepType::kFirst ? 1.0f : 0.0f;
  }
  buffer_.next_value.copy_(model_->Step(row, state_, first).value);
}

IterationStats OnPolicyTrainer::RunIteration() {
  IterationStats stats;
  const int threads = torch::get_num_threads();
  if (update_threads_ > 0) torch::set_num_threads(1);
  auto start = Clock::now();
  Collect(&stats);
  stats.collect_seconds = Seconds(start);
  if (update_threads_ > 0) torch::set_num_threads(update_threads_);
  start = Clock::now();
  const double progress = static_cast<double>(iteration_) / static_cast<double>(num_iterations_);
  stats.loss = algorithm_->Update(&buffer_, progress);
  stats.update_seconds = Seconds(start);
  if (update_threads_ > 0) torch::set_num_threads(threads);
  ++iteration_;
  frames_ += frames_per_iteration();
  stats.iteration = iteration_;
  stats.frames = frames_;
  return stats;
}

void OnPolicyTrainer::Save(torch::serialize::OutputArchive* archive) const {
  torch::serialize::OutputArchive model_archive;
  model_->save(model_archive);
  archive->write("model", model_archive);
  torch::serialize::OutputArchive optimizer_archive;
  algorithm_->optimizer().save(optimizer_archive);
  archive->write("optimizer", optimizer_archive);
  archive->write("iteration", Int64Scalar(iteration_));
  archive->write("frames", Int64Scalar(frames_));
  WriteCoreState(archive, state_);
  archive->write("torch_rng", GetTorchRngState());
  const std::string pool = pool_->SaveState();
  archive->write("pool", torch::from_blob(const_cast<char*>(pool.data()),
                                          {static_cast<int64_t>(pool.size())}, torch::kUInt8)
                             .clone());
}

void OnPolicyTrainer::Load(torch::serialize::InputArchive* archive) {
  torch::serialize::InputArchive model_archive;
  archive->read("model", model_archive);
  model_->load(model_archive);
  torch::serialize::InputArchive optimizer_archive;
  archive->read("optimizer", optimizer_archive);
  algorithm_->optimizer().load(optimizer_archive);
  // read() into a defined tensor would copy into its storage: every read gets a fresh one.
  const auto read = [archive](const std::string& key) {
    torch::Tensor t;
    archive->read(key, t);
    return t;
  };
  iteration_ = read("iteration").item<int64_t>();
  frames_ = read("frames").item<int64_t>();
  state_ = ReadCoreState(archive, model_->InitialState(buffer_.envs));
  SetTorchRngState(read("torch_rng"));
  auto pool = read("pool").contiguous();
  pool_->LoadState(std::string(reinterpret_cast<const char*>(pool.data_ptr<uint8_t>()),
                               static_cast<size_t>(pool.numel())));
  batch_ = &pool_->Last();
}

}  // namespace rimlab
