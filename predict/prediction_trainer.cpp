#include "predict/prediction_trainer.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <vector>

namespace rimlab::predict {

PredictionTrainOptions PredictionTrainOptionsFrom(const Params& train, int64_t seed) {
  ParamReader r(train, "section 'train'");
  PredictionTrainOptions o;
  o.batch_size = r.Int("batch_size", o.batch_size, 1, 1 << 16);
  o.updates = r.Int("updates", o.updates, 1, int64_t{1} << 40);
  o.lr = r.Float("lr", o.lr, 1e-8, 1.0);
  o.clip = r.Float("clip", o.clip, 0.0, 1e9);
  r.Finish();
  o.seed = seed;
  return o;
}

PredictionTrainer::PredictionTrainer(FramePredictor model, const SequenceStore* data,
                                     PredictionTrainOptions options)
    : model_(std::move(model)),
      data_(data),
      options_(options),
      rng_(static_cast<uint64_t>(options.seed) ^ 0xBA115ull) {
  if (data_->count() < 1 || data_->frames() < 2) {
    throw std::invalid_argument("prediction training needs sequences of at least 2 frames");
  }
  {
    // The mean pixel of up to 256 sequences sets the decoder's starting output (a checkpoint's
    // weights replace it on resume).
    std::vector<int64_t> index;
    for (int64_t i = 0; i < std::min<int64_t>(256, data_->count()); ++i) index.push_back(i);
    const double mean = data_->Batch(index).mean().item<double>();
    model_->decoder->SetOutputBias(std::clamp(mean, 1e-4, 1.0 - 1e-4));
  }
  adam_ = std::make_unique<torch::optim::Adam>(model_->parameters(),
                                               torch::optim::AdamOptions(options_.lr));
}

UpdateStats PredictionTrainer::Update() {
  model_->train();
  std::vector<int64_t> index(static_cast<size_t>(options_.batch_size));
  for (auto& i : index) i = static_cast<int64_t>(rng_.Below(static_cast<uint32_t>(data_->count())));
  const torch::Tensor x = data_->Batch(index);
  const int64_t t = x.size(0);
  models::State state = model_->InitialState(options_.batch_size);
  const torch::Tensor logits = model_->Forward(x.narrow(0, 0, t - 1), &state);
  // Summed over pixels, averaged over frames and sequences: nats per frame, the paper's unit.
  const torch::Tensor loss = torch::binary_cross_entropy_with_logits(logits, x.narrow(0, 1, t - 1),
                                                                     {}, {}, at::Reduction::Sum) /
                             static_cast<double>((t - 1) * options_.batch_size);
  adam_->zero_grad();
  loss.backward();
  double norm = 0.0;
  if (options_.clip > 0) {
    norm = torch::nn::utils::clip_grad_norm_(model_->parameters(), options_.clip);
  } else {
    for (const auto& p : model_->parameters()) {
      if (p.grad().defined()) norm += p.grad().pow(2).sum().item<double>();
    }
    norm = std::sqrt(norm);
  }
  adam_->step();
  ++update_;
  return {update_, loss.item<double>(), norm};
}

void PredictionTrainer::Save(const std::string& path, double seconds,
                             const std::vector<double>& extra) const {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive model_archive;
  model_->save(model_archive);
  archive.write("model", model_archive);
  torch::serialize::OutputArchive adam_archive;
  adam_->save(adam_archive);
  archive.write("adam", adam_archive);
  const auto s = rng_.State();
  archive.write("rng", torch::tensor({static_cast<int64_t>(s[0]), static_cast<int64_t>(s[1]),
                                      static_cast<int64_t>(s[2]), static_cast<int64_t>(s[3])},
                                     torch::kInt64));
  archive.write("update", torch::tensor({update_}, torch::kInt64));
  archive.write("seconds", torch::tensor({seconds}, torch::kDouble));
  archive.write("extra",
                torch::tensor(extra.empty() ? std::vector<double>{0.0} : extra, torch::kDouble)
                    .narrow(0, 0, static_cast<int64_t>(extra.size())));
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  const std::string tmp = path + ".tmp";
  archive.save_to(tmp);
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + ec.message());
}

double PredictionTrainer::Load(const std::string& path, std::vector<double>* extra) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    model_->load(model_archive);
    torch::serialize::InputArchive adam_archive;
    archive.read("adam", adam_archive);
    adam_->load(adam_archive);
    torch::Tensor rng, update, seconds;
    archive.read("rng", rng);
    archive.read("update", update);
    archive.read("seconds", seconds);
    const auto* r = rng.data_ptr<int64_t>();
    rng_.SetState({static_cast<uint64_t>(r[0]), static_cast<uint64_t>(r[1]),
                   static_cast<uint64_t>(r[2]), static_cast<uint64_t>(r[3])});
    update_ = update.item<int64_t>();
    if (extra != nullptr) {
      torch::Tensor e;
      archive.read("extra", e);
      e = e.contiguous();
      extra->assign(e.data_ptr<double>(), e.data_ptr<double>() + e.numel());
    }
    return seconds.item<double>();
  } catch (const c10::Error& e) {
    throw std::runtime_error(path + ": not a checkpoint of this prediction model (" +
                             std::string(e.what_without_backtrace()).substr(0, 200) + ")");
  }
}

void LoadPredictorWeights(FramePredictor model, const std::string& path) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    model->load(model_archive);
  } catch (const c10::Error& e) {
    throw std::runtime_error(path + ": not a checkpoint of this prediction model (" +
                             std::string(e.what_without_backtrace()).substr(0, 200) + ")");
  }
}

}  // namespace rimlab::predict
