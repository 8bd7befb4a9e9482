#include "runners/run/tensorboard.h"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace rimlab {

namespace {

std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}

// Protobuf wire format, just what Event/Summary/Value need.
void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

template <typename T>
void PutFixed(std::string* out, T v) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));  // little-endian hosts only, as TensorBoard's readers
  out->append(bytes, sizeof(T));
}

void PutKey(std::string* out, int field, int wire) {
  PutVarint(out, static_cast<uint64_t>(field) << 3 | static_cast<uint64_t>(wire));
}

void PutBytes(std::string* out, int field, const std::string& bytes) {
  PutKey(out, field, 2);
  PutVarint(out, bytes.size());
  out->append(bytes);
}

/// Event{wall_time=1, step=2, file_version=3 | summary=5}.
std::string EventHeader(double wall_time, int64_t step) {
  std::string e;
  PutKey(&e, 1, 1);
  PutFixed(&e, wall_time);
  PutKey(&e, 2, 0);
  PutVarint(&e, static_cast<uint64_t>(step));
  return e;
}

struct Cursor {
  const std::string& data;
  size_t pos;
  size_t end;
  const std::string& path;

  [[noreturn]] void Fail(const std::string& what) const {
    throw std::runtime_error(path + ": corrupt event at byte " + std::to_string(pos) + ": " + what);
  }
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= end) Fail("truncated varint");
      const auto b = static_cast<uint8_t>(data[pos++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    Fail("varint too long");
  }
  template <typename T>
  T Fixed() {
    if (end - pos < sizeof(T)) Fail("truncated fixed field");
    T v;
    std::memcpy(&v, data.data() + pos, sizeof(T));
    pos += sizeof(T);
    return v;
  }
  Cursor Sub() {
    const uint64_t n = Varint();
    if (n > end - pos) Fail("length past the end");
    Cursor c{data, pos, pos + static_cast<size_t>(n), path};
    pos += static_cast<size_t>(n);
    return c;
  }
  void Skip(int wire) {
    switch (wire) {
      case 0:
        Varint();
        break;
      case 1:
        Fixed<uint64_t>();
        break;
      case 2:
        Sub();
        break;
      case 5:
        Fixed<uint32_t>();
        break;
      default:
        Fail("unknown wire type " + std::to_string(wire));
    }
  }
};

}  // namespace

double UnixTimeNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

uint32_t Crc32c(const void* data, size_t size) {
  static const std::array<uint32_t, 256> table = MakeCrcTable();
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) c = table[(c ^ p[i]) & 0xffu] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint32_t MaskedCrc32c(const void* data, size_t size) {
  const uint32_t crc = Crc32c(data, size);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

void TensorBoardWriter::FileCloser::operator()(std::FILE* f) const {
  if (f != nullptr) std::fclose(f);
}

TensorBoardWriter::TensorBoardWriter(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw std::runtime_error(dir + ": cannot create the TensorBoard directory: " + ec.message());
  }
  char host[256] = "localhost";
  gethostname(host, sizeof(host) - 1);
  host[sizeof(host) - 1] = '\0';
  const auto seconds = static_cast<long long>(UnixTimeNow());
  // Never reuse a file: a second writer in the same second gets a suffix.
  for (int k = 0;; ++k) {
    path_ = dir + "/events.out.tfevents." + std::to_string(seconds) + "." + host +
            (k ? "." + std::to_string(k) : "");
    if (!std::filesystem::exists(path_, ec)) break;
  }
  file_.reset(std::fopen(path_.c_str(), "wbx"));
  if (!file_) {
    throw std::runtime_error(path_ + ": cannot create the event file: " + std::strerror(errno));
  }
  std::string e = EventHeader(UnixTimeNow(), 0);
  PutBytes(&e, 3, "brain.Event:2");
  WriteRecord(e);
  Flush();
}

TensorBoardWriter::~TensorBoardWriter() = default;
TensorBoardWriter::TensorBoardWriter(TensorBoardWriter&&) noexcept = default;
TensorBoardWriter& TensorBoardWriter::operator=(TensorBoardWriter&&) noexcept = default;

void TensorBoardWriter::WriteRecord(const std::string& data) {
  if (!file_) throw std::logic_error("TensorBoardWriter used after being moved from");
  std::string rec;
  const uint64_t length = data.size();
  PutFixed(&rec, length);
  PutFixed(&rec, MaskedCrc32c(rec.data(), sizeof(length)));
  rec += data;
  PutFixed(&rec, MaskedCrc32c(data.data(), data.size()));
  if (std::fwrite(rec.data(), 1, rec.size(), file_.get()) != rec.size()) {
    throw std::runtime_error(path_ + ": write failed");
  }
}

void TensorBoardWriter::AddScalar(const std::string& tag, int64_t step, double value,
                                  double wall_time) {
  AddScalars(step, {{tag, value}}, wall_time);
}

void TensorBoardWriter::AddScalars(int64_t step,
                                   const std::vector<std::pair<std::string, double>>& values,
                                   double wall_time) {
  std::string summary;
  for (const auto& [tag, value] : values) {
    std::string v;
    PutBytes(&v, 1, tag);
    PutKey(&v, 2, 5);
    PutFixed(&v, static_cast<float>(value));
    PutBytes(&summary, 1, v);
  }
  std::string e = EventHeader(wall_time, step);
  PutBytes(&e, 5, summary);
  WriteRecord(e);
}

void TensorBoardWriter::Flush() {
  if (!file_) throw std::logic_error("TensorBoardWriter used after being moved from");
  if (std::fflush(file_.get()) != 0) throw std::runtime_error(path_ + ": flush failed");
}

std::vector<ScalarEvent> ReadTensorBoardScalars(const std::string& path, TornTail torn_tail) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<ScalarEvent> out;
  size_t pos = 0;
  while (pos < data.size()) {
    const auto fail = [&](const std::string& what) {
      throw std::runtime_error(path + ": corrupt record at byte " + std::to_string(pos) + ": " +
                               what);
    };
    if (data.size() - pos < 12) {
      if (torn_tail == TornTail::kIgnore) break;
      fail("truncated header");
    }
    uint64_t length;
    uint32_t crc;
    std::memcpy(&length, data.data() + pos, 8);
    std::memcpy(&crc, data.data() + pos + 8, 4);
    if (crc != MaskedCrc32c(data.data() + pos, 8)) fail("length checksum mismatch");
    if (length > data.size() - pos - 12 || data.size() - pos - 12 - length < 4) {
      // The length is CRC-checked, so this really is a record cut short, not a bad length.
      if (torn_tail == TornTail::kIgnore) break;
      fail("truncated record");
    }
    const size_t body = pos + 12;
    std::memcpy(&crc, data.data() + body + length, 4);
    if (crc != MaskedCrc32c(data.data() + body, static_cast<size_t>(length))) {
      fail("data checksum mismatch");
    }
    Cursor event{data, body, body + static_cast<size_t>(length), path};
    double wall_time = 0.0;
    int64_t step = 0;
    std::vector<std::pair<std::string, double>> values;
    while (event.pos < event.end) {
      const uint64_t key = event.Varint();
      const int field = static_cast<int>(key >> 3);
      const int wire = static_cast<int>(key & 7);
      if (field == 1 && wire == 1) {
        wall_time = event.Fixed<double>();
      } else if (field == 2 && wire == 0) {
        step = static_cast<int64_t>(event.Varint());
      } else if (field == 5 && wire == 2) {
        Cursor summary = event.Sub();
        while (summary.pos < summary.end) {
          const uint64_t sk = summary.Varint();
          if ((sk >> 3) != 1 || (sk & 7) != 2) {
            summary.Skip(static_cast<int>(sk & 7));
            continue;
          }
          Cursor value = summary.Sub();
          std::string tag;
          double v = 0.0;
          bool has_value = false;
          while (value.pos < value.end) {
            const uint64_t vk = value.Varint();
            if (vk == (1 << 3 | 2)) {
              Cursor t = value.Sub();
              tag.assign(data, t.pos, t.end - t.pos);
            } else if (vk == (2 << 3 | 5)) {
              v = value.Fixed<float>();
              has_value = true;
            } else {
              value.Skip(static_cast<int>(vk & 7));
            }
          }
          if (has_value) values.emplace_back(tag, v);
        }
      } else {
        event.Skip(wire);
      }
    }
    for (auto& [tag, v] : values) out.push_back({tag, step, v, wall_time});
    pos = body + static_cast<size_t>(length) + 4;
  }
  return out;
}

void ReplaceTensorBoardFiles(const std::string& dir, int64_t keep_up_to) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  std::vector<ScalarEvent> kept;
  std::vector<fs::path> old;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    if (name.rfind("events.out.tfevents.", 0) != 0) continue;
    // A writer killed mid-record leaves a torn tail; what came before it is still good.
    for (auto& e : ReadTensorBoardScalars(entry.path().string(), TornTail::kIgnore)) {
      if (e.step <= keep_up_to) kept.push_back(e);
    }
    old.push_back(entry.path());
  }
  std::vector<std::string> old_names;
  for (const auto& p : old) old_names.push_back(p.string());
  {
    TensorBoardWriter writer(dir);
    for (const auto& e : kept) writer.AddScalar(e.tag, e.step, e.value, e.wall_time);
    writer.Flush();
    for (const auto& p : old_names) {
      if (p != writer.path()) fs::remove(p, ec);
    }
  }
}

}  // namespace rimlab
