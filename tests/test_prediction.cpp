// The bouncing-balls predictor (predict/): batches laid out as the store says, the BCE and the
// 15 + 35 protocol against plain loops, the loss falling on a tiny dataset, and a checkpoint
// resuming training exactly.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <vector>

#include "envs/balls/sequences.h"
#include "predict/frame_predictor.h"
#include "predict/prediction_eval.h"
#include "predict/prediction_trainer.h"
#include "predict/sequence_store.h"

using namespace rimlab;
using namespace rimlab::predict;

namespace {

/// `count` sequences of the `4` variant at 16 x 16.
SequenceStore Tiny(int count, int frames, uint64_t seed = 1) {
  const auto v = balls::SequenceVariantByName("4");
  balls::SequenceBatch b;
  b.Resize(count, frames, 16, 4);
  for (int i = 0; i < count; ++i)
    balls::GenerateSequence(v, balls::SequenceSeed(seed, 0, i), i, &b);
  return SequenceStore(b.features, count, frames, 16);
}

FramePredictor Model(const std::string& type) {
  torch::manual_seed(3);
  FramePredictorOptions o;
  o.image_size = 16;
  o.conv_channels = 8;
  o.encoder_size = 32;
  o.core.type = type;
  o.core.hidden_size = 32;
  o.core.rim.num_units(4).top_k(2).unit_size(8).input_dropout(0.0).comm_dropout(0.0);
  return FramePredictor(o);
}

/// -sum y log(sigmoid z) + (1 - y) log(1 - sigmoid z), one pixel at a time, in double.
double PlainBce(const torch::Tensor& logits, const torch::Tensor& targets) {
  const auto z = logits.to(torch::kDouble).contiguous(),
             y = targets.to(torch::kDouble).contiguous();
  const double* zp = z.data_ptr<double>();
  const double* yp = y.data_ptr<double>();
  double s = 0.0;
  for (int64_t i = 0; i < z.numel(); ++i) {
    const double p = 1.0 / (1.0 + std::exp(-zp[i]));
    s -= yp[i] * std::log(p) + (1.0 - yp[i]) * std::log(1.0 - p);
  }
  return s;
}

}  // namespace

TEST_CASE("a batch is frames [first, first + length) of the chosen sequences", "[predict]") {
  std::vector<uint8_t> px(3 * 4 * 16 * 16);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>((i * 7919) % 3 == 0);
  const SequenceStore s(px, 3, 4, 16);
  const auto b = s.Batch({2, 0}, 1, 2);
  REQUIRE(b.sizes() == std::vector<int64_t>({2, 2, 16, 16}));
  for (int t = 0; t < 2; ++t) {
    for (int i = 0; i < 2; ++i) {
      const int seq = i == 0 ? 2 : 0;
      for (int p = 0; p < 256; ++p) {
        const auto want = px[(static_cast<size_t>(seq) * 4 + 1 + t) * 256 + p];
        REQUIRE(b[t][i].flatten()[p].item<float>() == static_cast<float>(want));
      }
    }
  }
  CHECK_THROWS(s.Batch({3}));
  CHECK_THROWS(s.Batch({0}, 3, 2));
}

TEST_CASE("teacher-forced BCE and the rollout protocol match plain loops", "[predict]") {
  for (const std::string type : {"lstm", "rim"}) {
    INFO(type);
    const SequenceStore data = Tiny(3, 12);
    FramePredictor m = Model(type);
    m->eval();
    torch::NoGradGuard no_grad;
    // Teacher forcing, one frame at a time.
    double want_tf = 0.0;
    for (int64_t i = 0; i < 3; ++i) {
      const auto x = data.Batch({i});
      models::State st = m->InitialState(1);
      for (int t = 0; t + 1 < 12; ++t)
        want_tf += PlainBce(m->Forward(x.narrow(0, t, 1), &st), x[t + 1]);
    }
    CHECK(TeacherForcedBce(m, data, 0, 2) == Approx(want_tf / (3 * 11)).epsilon(1e-5));

    // 4 true frames, then 6 steps on the model's own probabilities: step k scores frame 4 + k.
    const RolloutCurve c = RolloutBce(m, data, 0, 4, 6, 2);
    REQUIRE(c.per_sequence.size() == 3);
    for (int64_t i = 0; i < 3; ++i) {
      const auto x = data.Batch({i});
      models::State st = m->InitialState(1);
      torch::Tensor logits;
      for (int t = 0; t < 4; ++t) logits = m->Forward(x.narrow(0, t, 1), &st);
      for (int k = 0; k < 6; ++k) {
        CHECK(c.per_sequence[static_cast<size_t>(i)][static_cast<size_t>(k)] ==
              Approx(PlainBce(logits, x.narrow(0, 4 + k, 1))).epsilon(1e-4));
        logits = m->Forward(torch::sigmoid(logits), &st);
      }
    }
    double mean0 = 0.0;
    for (const auto& row : c.per_sequence) mean0 += row[0] / 3.0;
    CHECK(c.mean[0] == Approx(mean0));
    CHECK(c.ci95[0] > 0.0);
    CHECK_THROWS_WITH(RolloutBce(m, data, 0, 8, 6), Catch::Contains("8 + 6 frames"));
  }
}

TEST_CASE("the prediction loss falls on a tiny dataset", "[predict]") {
  const SequenceStore data = Tiny(8, 10);
  PredictionTrainOptions o;
  o.batch_size = 4;
  o.updates = 150;
  o.lr = 3e-3;
  PredictionTrainer trainer(Model("lstm"), &data, o);
  // The output starts at the data's mean pixel: the BCE of predicting the mean frame.
  const double start = TeacherForcedBce(trainer.model(), data);
  while (!trainer.done()) trainer.Update();
  const double end = TeacherForcedBce(trainer.model(), data);
  INFO("start " << start << " end " << end);
  CHECK(end < 0.75 * start);  // 0.67 measured at 150 updates
}

TEST_CASE("a checkpoint resumes training exactly", "[predict]") {
  const SequenceStore data = Tiny(6, 8);
  PredictionTrainOptions o;
  o.batch_size = 2;
  o.updates = 6;
  const std::string path =
      (std::filesystem::temp_directory_path() / "rimlab_test_predict_ckpt.pt").string();
  for (const std::string type : {"lstm", "rim"}) {
    PredictionTrainer a(Model(type), &data, o);
    for (int i = 0; i < 3; ++i) a.Update();
    a.Save(path, 12.5);
    std::vector<double> tail;
    while (!a.done()) tail.push_back(a.Update().bce);

    PredictionTrainer b(Model(type), &data, o);
    b.Update();  // a different state, which the load replaces
    CHECK(b.Load(path) == 12.5);
    CHECK(b.update() == 3);
    std::vector<double> resumed;
    while (!b.done()) resumed.push_back(b.Update().bce);
    CHECK(resumed == tail);
    CHECK_THROWS_WITH(LoadPredictorWeights(Model(type == "lstm" ? "rim" : "lstm"), path),
                      Catch::Contains("not a checkpoint of this prediction model"));
  }
  std::filesystem::remove(path);
}

TEST_CASE("the mean frame's density and rollout BCE match hand computation", "[predict]") {
  // Two sequences of three 2 x 2 frames; lit pixels per frame: (1, 2, 0) and (4, 1, 3).
  std::vector<uint8_t> px = {1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0,
                             1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 1, 1};
  const SequenceStore store(px, 2, 3, 2);
  CHECK(MeanDensity(store) == Approx(11.0 / 24.0));
  CHECK(MeanDensity(store, 1) == Approx(3.0 / 12.0));
  const double p = 0.25;
  const auto bce = [p](double lit) { return -(lit * std::log(p) + (4 - lit) * std::log(1 - p)); };
  // One true frame, then two scored: frames 1 and 2 of each sequence.
  const RolloutCurve c = ConstantRollout(store, p, 0, 1, 2);
  REQUIRE(c.mean.size() == 2);
  CHECK(c.mean[0] == Approx((bce(2) + bce(1)) / 2));
  CHECK(c.mean[1] == Approx((bce(0) + bce(3)) / 2));
  CHECK(c.Average() == Approx((bce(2) + bce(1) + bce(0) + bce(3)) / 4));
  // The interval of the average is over the sequences' own averages.
  const double a = (bce(2) + bce(0)) / 2, b = (bce(1) + bce(3)) / 2;
  CHECK(c.AverageCi95() == Approx(1.96 * std::abs(a - b) / std::sqrt(2.0) / std::sqrt(2.0)));
  CHECK_THROWS(ConstantRollout(store, p, 0, 2, 2));  // 4 frames asked of 3
  CHECK_THROWS(ConstantRollout(store, 1.0, 0, 1, 2));
}
