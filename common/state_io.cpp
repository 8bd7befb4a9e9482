#include "common/state_io.h"

#include <stdexcept>
#include <utility>

namespace rimlab {

namespace {
// "RIMS" in little-endian order: the first thing checked, so that arbitrary bytes are refused as
// "not a snapshot" before any length in them is trusted.
constexpr uint32_t kMagic = 0x534D4952u;
}  // namespace

StateWriter::StateWriter(const std::string& tag, uint32_t version) {
  Pod(kMagic);
  String(tag);
  Pod(version);
}

void StateWriter::String(const std::string& s) {
  Pod(static_cast<uint64_t>(s.size()));
  Raw(s.data(), s.size());
}

void StateWriter::Raw(const void* data, size_t n) {
  if (n > 0) bytes_.append(static_cast<const char*>(data), n);
}

StateReader::StateReader(const std::string& bytes, std::string tag, uint32_t version)
    : bytes_(bytes), tag_(std::move(tag)) {
  if (bytes_.size() < sizeof(kMagic)) {
    throw std::invalid_argument(tag_ + ": snapshot truncated/corrupt: " +
                                std::to_string(bytes_.size()) + " bytes, too short for a header");
  }
  if (Pod<uint32_t>() != kMagic) {
    throw std::invalid_argument(tag_ + ": snapshot truncated/corrupt: not a rimlab snapshot");
  }
  const std::string found = String();
  if (found != tag_) {
    throw std::invalid_argument(tag_ + ": snapshot is of '" + found + "', not '" + tag_ + "'");
  }
  const auto v = Pod<uint32_t>();
  if (v != version) {
    throw std::invalid_argument(tag_ + ": snapshot format version " + std::to_string(v) +
                                ", but this build reads version " + std::to_string(version));
  }
}

bool StateReader::Bool() {
  const auto b = Pod<uint8_t>();
  if (b > 1) Fail("a flag holds " + std::to_string(b));
  return b == 1;
}

std::string StateReader::String() {
  const size_t n = Count(1);
  std::string s(n, '\0');
  Raw(&s[0], n);
  return s;
}

void StateReader::Raw(void* out, size_t n) {
  if (n > remaining()) {
    throw std::invalid_argument(tag_ + ": snapshot truncated/corrupt: needs " + std::to_string(n) +
                                " more bytes at offset " + std::to_string(pos_) + ", has " +
                                std::to_string(remaining()));
  }
  if (n > 0) std::memcpy(out, bytes_.data() + pos_, n);
  pos_ += n;
}

size_t StateReader::Count(size_t element_size) {
  const auto n = Pod<uint64_t>();
  // Divide rather than multiply, so that a huge corrupt count cannot overflow the check.
  if (n > remaining() / element_size) {
    throw std::invalid_argument(tag_ + ": snapshot truncated/corrupt: a length of " +
                                std::to_string(n) + " at offset " + std::to_string(pos_) +
                                " exceeds the " + std::to_string(remaining()) + " bytes left");
  }
  return static_cast<size_t>(n);
}

void StateReader::Finish() const {
  if (remaining() != 0) {
    throw std::invalid_argument(tag_ + ": snapshot truncated/corrupt: " +
                                std::to_string(remaining()) + " unread bytes at the end");
  }
}

void StateReader::Fail(const std::string& what) const {
  throw std::invalid_argument(tag_ + ": snapshot corrupt: " + what);
}

}  // namespace rimlab
