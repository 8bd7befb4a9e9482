#include "runners/train/checkpoint.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

namespace rimlab {

namespace fs = std::filesystem;

namespace {
constexpr const char* kPrefix = "ckpt_";
constexpr const char* kSuffix = ".pt";

bool IsCheckpointName(const std::string& name) {
  const size_t p = std::string(kPrefix).size();
  const size_t s = std::string(kSuffix).size();
  if (name.size() <= p + s || name.compare(0, p, kPrefix) != 0 ||
      name.compare(name.size() - s, s, kSuffix) != 0) {
    return false;
  }
  return std::all_of(name.begin() + static_cast<std::ptrdiff_t>(p),
                     name.end() - static_cast<std::ptrdiff_t>(s),
                     [](char c) { return c >= '0' && c <= '9'; });
}
}  // namespace

std::string SaveCheckpointWith(int64_t frames, const std::string& dir,
                               const std::function<void(torch::serialize::OutputArchive*)>& write) {
  fs::create_directories(dir);
  char name[64];
  std::snprintf(name, sizeof(name), "%s%012lld%s", kPrefix, static_cast<long long>(frames),
                kSuffix);
  const std::string path = dir + "/" + name;
  const std::string tmp = path + ".tmp";
  torch::serialize::OutputArchive archive;
  write(&archive);
  archive.save_to(tmp);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + ec.message());
  return path;
}

void LoadCheckpointWith(const std::string& path,
                        const std::function<void(torch::serialize::InputArchive*)>& read) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    read(&archive);
  } catch (const c10::Error& e) {
    throw std::runtime_error(path + ": not a checkpoint of this model (" +
                             std::string(e.what_without_backtrace()) + ")");
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

std::string SaveCheckpoint(const OnPolicyTrainer& trainer, const std::string& dir) {
  return SaveCheckpointWith(trainer.frames(), dir,
                            [&trainer](torch::serialize::OutputArchive* a) { trainer.Save(a); });
}

void LoadCheckpoint(OnPolicyTrainer* trainer, const std::string& path) {
  LoadCheckpointWith(path, [trainer](torch::serialize::InputArchive* a) { trainer->Load(a); });
}

void LoadModelWeights(agents::ActorCritic model, const std::string& path) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    model->load(model_archive);
  } catch (const c10::Error& e) {
    throw std::runtime_error(path + ": not a checkpoint of this model (" +
                             std::string(e.what_without_backtrace()) + ")");
  }
}

std::vector<std::string> ListCheckpoints(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return {};
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && IsCheckpointName(name)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());  // fixed-width frame counts sort numerically
  for (auto& n : names) n = dir + "/" + n;
  return names;
}

void PruneCheckpoints(const std::string& dir, int keep) {
  if (keep <= 0) return;
  auto all = ListCheckpoints(dir);
  for (size_t i = 0; i + static_cast<size_t>(keep) < all.size(); ++i) {
    std::error_code ec;
    fs::remove(all[i], ec);
  }
}

}  // namespace rimlab
