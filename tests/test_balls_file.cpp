// Bouncing-balls sequences (envs/balls/sequences.h) and their HDF5 files in Relational-NEM's
// layout (data/balls_file.h): the generator against the world stepped by hand, the round trip,
// files written by h5py the way R-NEM's are, and every malformed file giving a clear error.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/balls_file.h"
#include "data/hdf5_file.h"
#include "envs/balls/ball_world.h"
#include "envs/balls/render.h"
#include "envs/balls/sequences.h"
#include "tests/file_test_util.h"

namespace fs = std::filesystem;
using rimlab::BallsFile;
using rimlab::BallsFileWriter;
using namespace rimlab::balls;

namespace {

using file_test::RunPython;
using file_test::TempDir;

SequenceBatch Generate(const SequenceVariant& v, int count, int frames, int size, uint64_t seed) {
  SequenceBatch batch;
  batch.Resize(count, frames, size, v.world.max_balls);
  for (int i = 0; i < count; ++i) GenerateSequence(v, SequenceSeed(seed, 0, i), i, &batch);
  return batch;
}

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const rimlab::h5::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a generated sequence is the world stepped and rendered frame by frame", "[balls]") {
  const SequenceVariant v = SequenceVariantByName("curtain");
  const uint64_t seed = SequenceSeed(7, 0, 3);
  SequenceBatch batch;
  batch.Resize(2, 12, 32, v.world.max_balls);
  GenerateSequence(v, seed, 1, &batch);

  // The same world, by hand: reset with the seed, render, step.
  BallWorld world(v.world);
  world.Reset(seed);
  const Curtain curtain = RandomCurtain(seed ^ 0xC0FFEEull, v.world.box_size, v.curtain_width);
  REQUIRE(curtain.enabled());
  CHECK(batch.ball_counts[1] == world.num_balls());
  CHECK(batch.ball_counts[0] == 0);  // slot 0 untouched
  std::vector<uint8_t> pixels;
  std::vector<Ball> before = world.Balls();
  for (int t = 0; t < 12; ++t) {
    if (t > 0) world.Step();
    RenderBinary(world, 32, curtain, &pixels);
    const size_t f = static_cast<size_t>(12 + t);
    const std::vector<uint8_t> got(batch.features.begin() + static_cast<long>(f * 1024),
                                   batch.features.begin() + static_cast<long>((f + 1) * 1024));
    CHECK(got == pixels);
    for (size_t p = 0; p < 1024; ++p) {
      CHECK((batch.groups[f * 1024 + p] > 0) == (pixels[p] == 1));
    }
    for (int i = 0; i < world.num_balls(); ++i) {
      const Ball b = world.GetBall(i);
      const size_t k = f * static_cast<size_t>(batch.max_balls) + static_cast<size_t>(i);
      CHECK(batch.positions[2 * k] == Approx(b.x / 10.0f));
      CHECK(batch.positions[2 * k + 1] == Approx(1.0f - b.y / 10.0f));
      CHECK(batch.velocities[2 * k] == Approx(b.vx * 0.1f / 10.0f));
      const Ball& a = before[static_cast<size_t>(i)];
      const bool changed = t > 0 && (a.vx != b.vx || a.vy != b.vy);
      CHECK(batch.collisions[k] == (changed ? 1 : 0));
    }
    before = world.Balls();
  }
}

TEST_CASE("the variants draw what they promise", "[balls]") {
  const auto four = Generate(SequenceVariantByName("4"), 20, 2, 16, 1);
  const auto many = Generate(SequenceVariantByName("678"), 20, 2, 16, 1);
  for (int i = 0; i < 20; ++i) {
    CHECK(four.ball_counts[static_cast<size_t>(i)] == 4);
    CHECK(many.ball_counts[static_cast<size_t>(i)] >= 6);
    CHECK(many.ball_counts[static_cast<size_t>(i)] <= 8);
  }
  // The curtain covers whole columns: some column is on in every row of every frame.
  const auto curtain = Generate(SequenceVariantByName("curtain"), 3, 2, 64, 1);
  for (int i = 0; i < 3; ++i) {
    const uint8_t* frame = curtain.features.data() + static_cast<size_t>(i) * 2 * 4096;
    int full_columns = 0;
    for (int x = 0; x < 64; ++x) {
      bool full = true;
      for (int y = 0; y < 64; ++y) full = full && frame[y * 64 + x] == 1;
      full_columns += full ? 1 : 0;
    }
    CHECK(full_columns == 16);  // 2.5 of 10 box units at 64 pixels
  }
  CHECK_THROWS_WITH(SequenceVariantByName("5"), Catch::Contains("expected 4, 678 or curtain"));
}

TEST_CASE("a written file reads back time-major, sequence for sequence", "[balls][hdf5]") {
  TempDir dir;
  const SequenceVariant v = SequenceVariantByName("4");
  const auto a = Generate(v, 5, 6, 16, 11);
  const auto b = Generate(v, 2, 6, 16, 12);
  const std::string path = dir / "balls.h5";
  {
    BallsFileWriter w(path, {7, 0, 2}, 6, 16, 4);
    w.Write(0, 0, a);
    w.Write(0, 5, b);
    w.Write(2, 0, b);
    CHECK_FALSE(fs::exists(path));  // only the .partial until Finish
    w.Finish();
  }
  CHECK(fs::exists(path));
  CHECK_FALSE(fs::exists(path + ".partial"));
  const BallsFile f = BallsFile::Open(path);
  CHECK(f.frames() == 6);
  CHECK(f.height() == 16);
  CHECK(f.Count("training") == 7);
  CHECK(f.Count("validation") == 0);
  CHECK(f.Count("test") == 2);
  std::vector<uint8_t> got;
  f.ReadFeatures("training", 3, 3, 5, &got);  // sequences 3, 4 (from a) and 5 (b's first)
  REQUIRE(got.size() == 5u * 3u * 256u);
  for (int t = 0; t < 5; ++t) {
    for (int i = 0; i < 3; ++i) {
      const int seq = 3 + i;
      const SequenceBatch& src = seq < 5 ? a : b;
      const size_t slot = static_cast<size_t>(seq < 5 ? seq : seq - 5);
      for (size_t p = 0; p < 256; ++p) {
        const uint8_t want = src.features[(slot * 6 + static_cast<size_t>(t)) * 256 + p];
        REQUIRE(got[(static_cast<size_t>(t) * 3 + static_cast<size_t>(i)) * 256 + p] == want);
      }
    }
  }
  CHECK_THROWS_WITH(f.ReadFeatures("training", 6, 2, 6, &got),
                    Catch::Contains("training/features"));
  CHECK_THROWS_WITH(f.ReadFeatures("training", 0, 1, 7, &got), Catch::Contains("7 frames"));
}

TEST_CASE("an unfinished writer leaves an earlier file as it was", "[balls][hdf5]") {
  TempDir dir;
  const std::string path = dir / "keep.h5";
  { std::ofstream(path) << "an earlier run's file"; }
  {
    BallsFileWriter w(path, {1, 1, 1}, 2, 8, 4);
    w.Write(0, 0, Generate(SequenceVariantByName("4"), 1, 2, 8, 1));
  }  // destroyed without Finish, as when generation fails
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  CHECK(text == "an earlier run's file");
  CHECK_FALSE(fs::exists(path + ".partial"));
}

TEST_CASE("h5py reads our file the way Relational-NEM's loader does", "[balls][hdf5][h5py]") {
  TempDir dir;
  const std::string path = dir / "ours.h5";
  const SequenceVariant v = SequenceVariantByName("678");
  const auto batch = Generate(v, 4, 8, 32, 5);
  {
    BallsFileWriter w(path, {4, 1, 1}, 8, 32, 8);
    w.Write(0, 0, batch);
    w.Finish();
  }
  // R-NEM: f[usage]["features"][:seq_len, i:i+B][:, :, None]; checks the pixel sum of every
  // (frame, sequence) against ours, and that each ball's label covers pixels around its position.
  std::string sums;
  for (int t = 0; t < 8; ++t) {
    for (int i = 0; i < 4; ++i) {
      int s = 0;
      for (size_t p = 0; p < 1024; ++p) {
        s += batch.features[(static_cast<size_t>(i) * 8 + static_cast<size_t>(t)) * 1024 + p];
      }
      sums += (sums.empty() ? "" : ",") + std::to_string(s);
    }
  }
  const std::string script =
      "import h5py, numpy as np\n"
      "f = h5py.File(\"" +
      path +
      "\", \"r\")\n"
      "x = f[\"training\"][\"features\"][:8, 0:4][:, :, None]\n"
      "assert x.shape == (8, 4, 1, 32, 32, 1), x.shape\n"
      "assert f[\"training\"][\"groups\"].shape == (8, 4, 32, 32, 1)\n"
      "assert f[\"training\"][\"positions\"].shape == (8, 4, 8, 2)\n"
      "sums = [int(v) for v in x.reshape(8 * 4, -1).sum(axis=1)]\n"
      "assert sums == [" +
      sums +
      "], sums\n"
      "g = f[\"training\"][\"groups\"][0, :, :, :, 0]\n"
      "pos = f[\"training\"][\"positions\"][0]\n"
      "n = f[\"training\"][\"ball_counts\"][:]\n"
      "for i in range(4):\n"
      "    for b in range(n[i]):\n"
      "        px = int(pos[i, b, 0] * 32); py = int(pos[i, b, 1] * 32)\n"
      "        assert g[i, py, px] == b + 1 or g[i, py, px] > 0, (i, b)\n"
      "assert set(f.keys()) == {\"training\", \"validation\", \"test\"}\n";
  CHECK(RunPython(script) == 0);
}

TEST_CASE("a file written by h5py in R-NEM's float layout reads", "[balls][hdf5][h5py]") {
  TempDir dir;
  const std::string path = dir / "rnem.h5";
  // Float frames, only the `features` and `groups` R-NEM's loader needs, one split.
  const std::string script =
      "import h5py, numpy as np\n"
      "x = np.zeros((5, 3, 16, 16, 1), np.float32)\n"
      "for t in range(5):\n"
      "    for i in range(3):\n"
      "        x[t, i, t, i, 0] = 1.0\n"
      "        x[t, i, 15, 15, 0] = 0.3\n"
      "with h5py.File(\"" +
      path +
      "\", \"w\") as f:\n"
      "    g = f.create_group(\"training\")\n"
      "    g.create_dataset(\"features\", data=x)\n"
      "    g.create_dataset(\"groups\", data=x)\n";
  REQUIRE(RunPython(script) == 0);
  const BallsFile f = BallsFile::Open(path);
  CHECK(f.HasSplit("training"));
  CHECK_FALSE(f.HasSplit("test"));
  CHECK(f.Count("training") == 3);
  std::vector<uint8_t> got;
  f.ReadFeatures("training", 0, 3, 5, &got);
  for (int t = 0; t < 5; ++t) {
    for (int i = 0; i < 3; ++i) {
      const uint8_t* frame =
          got.data() + (static_cast<size_t>(t) * 3 + static_cast<size_t>(i)) * 256;
      int on = 0;
      for (int p = 0; p < 256; ++p) on += frame[p];
      CHECK(on == 1);  // the 0.3 is below the threshold
      CHECK(frame[t * 16 + i] == 1);
    }
  }
  CHECK_THROWS_WITH(f.Count("test"), Catch::Contains("no split 'test'"));
}

TEST_CASE("malformed files give one clear error naming the file and the dataset",
          "[balls][hdf5][h5py]") {
  TempDir dir;
  const std::string missing = dir / "missing.h5";
  CHECK_THAT(ErrorOf([&] { BallsFile::Open(missing); }),
             Catch::Contains(missing) && Catch::Contains("not an HDF5 file"));

  const std::string text = dir / "text.h5";
  { std::ofstream(text) << "not hdf5 at all\n"; }
  CHECK_THAT(ErrorOf([&] { BallsFile::Open(text); }), Catch::Contains("not an HDF5 file"));

  // Truncated: a real file cut in half.
  const std::string cut = dir / "cut.h5";
  {
    BallsFileWriter w(cut, {16, 1, 1}, 10, 32, 4);
    w.Write(0, 0, Generate(SequenceVariantByName("4"), 16, 10, 32, 3));
    w.Finish();
  }
  fs::resize_file(cut, fs::file_size(cut) / 2);
  const std::string cut_error = ErrorOf([&] {
    const BallsFile f = BallsFile::Open(cut);
    std::vector<uint8_t> out;
    f.ReadFeatures("training", 0, 16, 10, &out);
  });
  CHECK_THAT(cut_error, Catch::Contains(cut));
  CHECK_THAT(cut_error, Catch::Contains("truncated"));

  const std::string wrong = dir / "wrong.h5";
  const std::string no_group = dir / "nogroup.h5";
  const std::string no_features = dir / "nofeatures.h5";
  const std::string strings = dir / "strings.h5";
  const std::string mismatch = dir / "mismatch.h5";
  const std::string script =
      "import h5py, numpy as np\n"
      "with h5py.File(\"" +
      wrong +
      "\", \"w\") as f:\n"
      "    f.create_group(\"training\").create_dataset(\"features\", data=np.zeros((5, 3, 16, "
      "16)))\n"
      "with h5py.File(\"" +
      no_group +
      "\", \"w\") as f:\n"
      "    f.create_group(\"train\").create_dataset(\"features\", data=np.zeros((5, 3, 16, 16, "
      "1)))\n"
      "with h5py.File(\"" +
      no_features +
      "\", \"w\") as f:\n"
      "    f.create_group(\"test\").create_dataset(\"frames\", data=np.zeros((5, 3, 16, 16, 1)))\n"
      "with h5py.File(\"" +
      strings +
      "\", \"w\") as f:\n"
      "    f.create_group(\"training\").create_dataset(\"features\", data=np.array([b\"a\"] * "
      "6).reshape(1, 1, 2, 3, 1))\n"
      "with h5py.File(\"" +
      mismatch +
      "\", \"w\") as f:\n"
      "    f.create_group(\"training\").create_dataset(\"features\", data=np.zeros((5, 3, 16, 16, "
      "1)))\n"
      "    f.create_group(\"test\").create_dataset(\"features\", data=np.zeros((5, 3, 32, 32, "
      "1)))\n";
  REQUIRE(RunPython(script) == 0);
  CHECK_THAT(ErrorOf([&] { BallsFile::Open(wrong); }),
             Catch::Contains(wrong + ": training/features") &&
                 Catch::Contains("expected shape (T, N, H, W, 1), found (5, 3, 16, 16)"));
  CHECK_THAT(ErrorOf([&] { BallsFile::Open(no_group); }),
             Catch::Contains("no 'training', 'validation' or 'test' group"));
  CHECK_THAT(ErrorOf([&] { BallsFile::Open(no_features); }),
             Catch::Contains("test/features: no such dataset"));
  CHECK_THAT(ErrorOf([&] { BallsFile::Open(strings); }),
             Catch::Contains("expected integer or floating-point frames"));
  CHECK_THAT(ErrorOf([&] { BallsFile::Open(mismatch); }),
             Catch::Contains("test/features: shape (5, 3, 32, 32, 1) differs"));
}
