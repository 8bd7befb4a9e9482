// TensorBoard event files (runners/run/tensorboard.h) beyond the round trip in test_logging.cpp: the
// exact bytes of a record against the protobuf wire format, the published CRC32C vectors, the
// file name, and the torn tail a killed writer leaves.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "runners/run/tensorboard.h"

namespace fs = std::filesystem;

namespace {

// Unique per process, so the plain and sanitizer builds can run this test at the same time.
fs::path MakeTempDir() {
  std::string pattern = (fs::temp_directory_path() / "rimlab_tb_XXXXXX").string();
  REQUIRE(::mkdtemp(pattern.data()) != nullptr);
  return pattern;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void Spit(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

uint32_t Le32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<unsigned char>(s[at + i])} << (8 * i);
  return v;
}

uint64_t Le64(const std::string& s, size_t at) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<unsigned char>(s[at + i])} << (8 * i);
  return v;
}

}  // namespace

TEST_CASE("CRC32C matches the iSCSI test vectors of RFC 3720", "[tensorboard]") {
  const std::string zeros(32, '\0');
  const std::string ones(32, '\xff');
  std::string ascending;
  for (int i = 0; i < 32; ++i) ascending.push_back(static_cast<char>(i));
  CHECK(rimlab::Crc32c(zeros.data(), zeros.size()) == 0x8A9136AAu);
  CHECK(rimlab::Crc32c(ones.data(), ones.size()) == 0x62A8AB43u);
  CHECK(rimlab::Crc32c(ascending.data(), ascending.size()) == 0x46DD794Eu);
  const uint32_t crc = rimlab::Crc32c("123456789", 9);
  CHECK(rimlab::MaskedCrc32c("123456789", 9) == ((crc >> 15) | (crc << 17)) + 0xa282ead8u);
}

TEST_CASE("a scalar record is TFRecord framing around the expected Event bytes", "[tensorboard]") {
  const fs::path dir = MakeTempDir();
  std::string path;
  {
    rimlab::TensorBoardWriter w(dir.string());
    path = w.path();
    w.AddScalar("a", 1, 2.0, 0.5);
  }
  const std::string file = Slurp(path);
  // Skip the file_version record, checking its framing on the way.
  const uint64_t first_length = Le64(file, 0);
  CHECK(Le32(file, 8) == rimlab::MaskedCrc32c(file.data(), 8));
  CHECK(file.find("brain.Event:2") == 12 + first_length - 13);
  const size_t at = 12 + first_length + 4;

  // Event{wall_time(1, fixed64)=0.5, step(2, varint)=1, summary(5, bytes)={value(1, bytes)=
  // {tag(1, bytes)="a", simple_value(2, fixed32)=2.0f}}}, written out by hand.
  const std::string expected_event(
      "\x09\x00\x00\x00\x00\x00\x00\xe0\x3f"
      "\x10\x01"
      "\x2a\x0a"
      "\x0a\x08"
      "\x0a\x01"
      "a"
      "\x15\x00\x00\x00\x40",
      23);
  REQUIRE(file.size() == at + 12 + expected_event.size() + 4);
  CHECK(Le64(file, at) == expected_event.size());
  CHECK(Le32(file, at + 8) == rimlab::MaskedCrc32c(file.data() + at, 8));
  CHECK(file.substr(at + 12, expected_event.size()) == expected_event);
  CHECK(Le32(file, at + 12 + expected_event.size()) ==
        rimlab::MaskedCrc32c(expected_event.data(), expected_event.size()));
  fs::remove_all(dir);
}

TEST_CASE("the event file is events.out.tfevents.<unix seconds>.<hostname>", "[tensorboard]") {
  const fs::path root = MakeTempDir();
  const fs::path dir = root / "nested" / "tb";  // created when missing
  const auto before = static_cast<long long>(rimlab::UnixTimeNow());
  rimlab::TensorBoardWriter w(dir.string());
  const auto after = static_cast<long long>(rimlab::UnixTimeNow());
  char host[256] = {};
  REQUIRE(::gethostname(host, sizeof(host) - 1) == 0);

  const fs::path path(w.path());
  CHECK(path.parent_path() == dir);
  const std::string name = path.filename().string();
  const std::string prefix = "events.out.tfevents.";
  REQUIRE(name.rfind(prefix, 0) == 0);
  const size_t dot = name.find('.', prefix.size());
  REQUIRE(dot != std::string::npos);
  const long long seconds = std::stoll(name.substr(prefix.size(), dot - prefix.size()));
  CHECK(seconds >= before);
  CHECK(seconds <= after);
  CHECK(name.substr(dot + 1) == host);
  fs::remove_all(root);
}

TEST_CASE("negative steps, zeros and multi-value events survive the round trip", "[tensorboard]") {
  const fs::path dir = MakeTempDir();
  rimlab::TensorBoardWriter moved_from(dir.string());
  rimlab::TensorBoardWriter w = std::move(moved_from);
  w.AddScalars(-7, {{"zero", 0.0}, {"neg", -3.5}, {"big", 1e30}}, 12.0);
  w.AddScalars(3, {}, 13.0);  // an empty summary holds no scalars
  w.Flush();
  const auto events = rimlab::ReadTensorBoardScalars(w.path());
  REQUIRE(events.size() == 3);
  CHECK(events[0].tag == "zero");
  CHECK(events[0].value == 0.0);
  CHECK(events[0].step == -7);
  CHECK(events[1].value == -3.5);
  CHECK(events[2].value == static_cast<double>(1e30f));
  CHECK(events[2].wall_time == 12.0);
  fs::remove_all(dir);
}

TEST_CASE("a torn last record is refused, or skipped on request; bad CRCs never are",
          "[tensorboard]") {
  const fs::path dir = MakeTempDir();
  std::string path;
  {
    rimlab::TensorBoardWriter w(dir.string());
    path = w.path();
    w.AddScalar("kept", 1, 1.0);
    w.AddScalar("torn", 2, 2.0);
  }
  const std::string good = Slurp(path);
  const auto all = rimlab::ReadTensorBoardScalars(path);
  REQUIRE(all.size() == 2);

  for (size_t cut : {size_t{1}, size_t{5}, size_t{20}}) {
    Spit(path, good.substr(0, good.size() - cut));
    CHECK_THROWS_WITH(rimlab::ReadTensorBoardScalars(path), Catch::Contains("truncated"));
    const auto kept = rimlab::ReadTensorBoardScalars(path, rimlab::TornTail::kIgnore);
    REQUIRE(kept.size() == 1);
    CHECK(kept[0].tag == "kept");
  }
  std::string bad = good;
  bad[bad.size() - 6] = static_cast<char>(bad[bad.size() - 6] ^ 1);
  Spit(path, bad);
  CHECK_THROWS_WITH(rimlab::ReadTensorBoardScalars(path, rimlab::TornTail::kIgnore),
                    Catch::Contains("checksum"));
  fs::remove_all(dir);
}

TEST_CASE("errors name the path", "[tensorboard]") {
  const fs::path dir = MakeTempDir();
  const std::string blocker = (dir / "file").string();
  Spit(blocker, "not a directory");
  CHECK_THROWS_WITH(rimlab::TensorBoardWriter(blocker + "/tb"), Catch::Contains(blocker));
  CHECK_THROWS_WITH(rimlab::ReadTensorBoardScalars((dir / "missing").string()),
                    Catch::Contains("missing"));
  fs::remove_all(dir);
}
