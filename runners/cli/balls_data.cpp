#include "runners/cli/balls_data.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <thread>
#include <vector>

#include "data/balls_file.h"
#include "envs/balls/sequences.h"

namespace rimlab {

namespace {

/// Sequences simulated together before a write: big enough to keep both cores busy, small
/// enough (about 13 MB of frames at 51 x 64 x 64) to stay out of the way.
constexpr int kBatch = 64;

void Require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("balls-data: " + what);
}

/// Simulates slots [0, batch->count) over `threads` threads; each sequence's seed depends only
/// on its split and index, so the file is the same whatever the thread count.
void Generate(const balls::SequenceVariant& variant, uint64_t seed, int split, int64_t first,
              int threads, balls::SequenceBatch* batch) {
  auto work = [&](int worker) {
    for (int i = worker; i < batch->count; i += threads) {
      balls::GenerateSequence(variant, balls::SequenceSeed(seed, split, first + i), i, batch);
    }
  };
  std::vector<std::thread> pool;
  for (int w = 1; w < threads; ++w) pool.emplace_back(work, w);
  work(0);
  for (auto& t : pool) t.join();
}

}  // namespace

int CmdBallsData(const BallsDataArgs& a) {
  const balls::SequenceVariant variant = balls::SequenceVariantByName(a.variant);
  Require(!a.out.empty(), "--out FILE.h5 is required");
  Require(a.sequences >= 1, "--sequences must be at least 1");
  Require(a.frames >= 2, "--frames must be at least 2 (a frame and the next)");
  Require(a.size >= 8 && a.size <= 1024, "--size must be in [8, 1024]");
  Require(a.threads >= 0, "--threads must be 0 (every core) or more");
  const int64_t validation =
      a.validation >= 0 ? a.validation : std::max<int64_t>(1, a.sequences / 10);
  const int64_t test = a.test >= 0 ? a.test : std::max<int64_t>(1, a.sequences / 5);
  if (std::filesystem::exists(a.out) && !a.force) {
    throw std::invalid_argument("balls-data: " + a.out +
                                " exists; pass --force to replace it, or choose another --out");
  }
  const int threads = a.threads > 0
                          ? a.threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  const std::vector<int64_t> counts = {a.sequences, validation, test};
  const std::filesystem::path parent = std::filesystem::path(a.out).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      throw std::invalid_argument("balls-data: cannot create the directory " + parent.string() +
                                  " for --out: " + ec.message());
    }
  }

  BallsFileWriter writer(a.out, counts, a.frames, a.size, variant.world.max_balls);
  writer.SetAttribute("generator", std::string("rimlab balls-data"));
  writer.SetAttribute("variant", variant.name);
  writer.SetAttribute("seed", static_cast<int64_t>(a.seed));
  writer.SetAttribute("box_size", static_cast<double>(variant.world.box_size));
  writer.SetAttribute("radius", static_cast<double>(variant.world.min_radius));
  writer.SetAttribute("frame_time", static_cast<double>(variant.world.frame_time));
  writer.SetAttribute("curtain_width", static_cast<double>(variant.curtain_width));

  const int64_t total = a.sequences + validation + test;
  int64_t done = 0;
  const auto start = std::chrono::steady_clock::now();
  auto last_report = start;
  balls::SequenceBatch batch;
  for (int split = 0; split < 3; ++split) {
    for (int64_t first = 0; first < counts[static_cast<size_t>(split)]; first += kBatch) {
      const auto n =
          static_cast<int>(std::min<int64_t>(kBatch, counts[static_cast<size_t>(split)] - first));
      batch.Resize(n, a.frames, a.size, variant.world.max_balls);
      Generate(variant, a.seed, split, first, threads, &batch);
      writer.Write(split, first, batch);
      done += n;
      const auto now = std::chrono::steady_clock::now();
      if (!a.quiet && (now - last_report > std::chrono::seconds(2) || done == total)) {
        last_report = now;
        const double s = std::chrono::duration<double>(now - start).count();
        const double rate = static_cast<double>(done) / std::max(s, 1e-9);
        std::fprintf(stderr, "\rballs-data: %lld/%lld sequences, %.0f/s, ETA %.0f s   ",
                     static_cast<long long>(done), static_cast<long long>(total), rate,
                     static_cast<double>(total - done) / std::max(rate, 1e-9));
      }
    }
  }
  writer.Finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!a.quiet) {
    std::fprintf(stderr, "\n");
    std::printf(
        "wrote %s: variant %s, %lld training, %lld validation, %lld test sequences of %d "
        "frames at %dx%d, in %.1f s (%.0f sequences/s, %d threads)\n",
        a.out.c_str(), variant.name.c_str(), static_cast<long long>(a.sequences),
        static_cast<long long>(validation), static_cast<long long>(test), a.frames, a.size, a.size,
        seconds, static_cast<double>(total) / std::max(seconds, 1e-9), threads);
  }
  return 0;
}

}  // namespace rimlab
