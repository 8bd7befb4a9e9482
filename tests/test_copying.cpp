// The copying task: data layout, config files parse, and (label slow) that a small LSTM learns a
// short copy, which shows the training loop is real.
#include <torch/torch.h>
// LibTorch brings glog, whose CHECK would shadow Catch2's: Catch2 must own it here.
#undef CHECK
#include <catch2/catch.hpp>

#include <cstdlib>

#include "agents/copying_task.h"
#include "runners/config/config.h"

using rimlab::agents::CopyingOptions;

TEST_CASE("copying batch layout follows the authors' data", "[copying]") {
  torch::manual_seed(0);
  auto b = rimlab::agents::MakeCopyingBatch(5, 7, 3, 8);
  REQUIRE(b.inputs.sizes() == torch::IntArrayRef({13, 5}));
  auto seq = b.inputs.narrow(0, 0, 3);
  CHECK(seq.ge(1).all().item<bool>());
  CHECK(seq.le(8).all().item<bool>());
  CHECK(b.inputs.narrow(0, 3, 6).eq(0).all().item<bool>());  // blanks
  CHECK(b.inputs[9].eq(9).all().item<bool>());               // the marker ends the span of 7
  CHECK(b.inputs.narrow(0, 10, 3).eq(0).all().item<bool>());
  CHECK(b.targets.narrow(0, 0, 10).eq(0).all().item<bool>());
  CHECK(torch::equal(b.targets.narrow(0, 10, 3), seq));
}

TEST_CASE("configs/copying_*.yaml parse into the options", "[copying]") {
  for (const char* file : {"configs/copying_rim.yaml", "configs/copying_lstm.yaml"}) {
    auto config = rimlab::Config::Load(file);
    config.CheckSections({"core"});
    auto o = rimlab::agents::CopyingOptionsFromParams(config.Section(""), config.Section("core"));
    CHECK(o.train_blank == 50);
    CHECK(o.test_blank == 200);
    CHECK(o.copy_length == 10);
  }
  auto config = rimlab::Config::Load("configs/copying_rim.yaml");
  CHECK(rimlab::agents::CopyingOptionsFromParams(config.Section(""), config.Section("core"))
            .core.rim.top_k() == 4);
  config.Override("core.hidden_size=5");  // an LSTM key in a RIM section
  CHECK_THROWS_AS(
      rimlab::agents::CopyingOptionsFromParams(config.Section(""), config.Section("core")),
      rimlab::OptionError);
  config = rimlab::Config::Load("configs/copying_rim.yaml");
  config.Override("update=5");  // a typo
  CHECK_THROWS_AS(
      rimlab::agents::CopyingOptionsFromParams(config.Section(""), config.Section("core")),
      rimlab::OptionError);
}

namespace {
// A 3-symbol copy over a 5-step span, evaluated on the training span: learning, not
// generalisation (the LSTM fails on a longer span). Capped at 600 updates and 3 minutes.
CopyingOptions ShortCopy() {
  CopyingOptions o;
  o.copy_length = 3;
  o.symbols = 4;
  o.train_blank = 5;
  o.test_blank = 5;
  o.batch_size = 32;
  o.updates = 600;
  o.lr = 3e-3;
  o.embedding_size = 16;
  o.eval_every = 0;
  o.threads = 1;
  o.max_minutes = 3;
  return o;
}
}  // namespace

TEST_CASE("a small LSTM learns a short copy", "[copying][.slow]") {
  CopyingOptions o = ShortCopy();
  o.core.type = "lstm";
  o.core.hidden_size = 64;
  auto r = rimlab::agents::RunCopying(o);
  INFO("test CE on copies " << r.final_eval.ce_copy << ", accuracy " << r.final_eval.copy_accuracy);
  CHECK(r.final_eval.copy_accuracy > 0.9);
}

TEST_CASE("a small RIM learns a short copy", "[copying][.slow]") {
  CopyingOptions o = ShortCopy();
  o.core.type = "rim";
  o.core.rim = rimlab::models::RIMCellOptions().num_units(4).top_k(3).unit_size(16);
  auto r = rimlab::agents::RunCopying(o);
  INFO("test CE on copies " << r.final_eval.ce_copy << ", accuracy " << r.final_eval.copy_accuracy);
  CHECK(r.final_eval.copy_accuracy > 0.9);
}
