#pragma once
/// TensorBoard event files written and read without protobuf or TensorFlow: TFRecord framing
/// with masked CRC32C around hand-encoded `Event` messages (scalars only). TensorBoard shows the
/// files as they are; `ReadTensorBoardScalars` reads them back for tests and plots.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace rimlab {

/// Seconds since the Unix epoch, with sub-second precision: TensorBoard's `wall_time`.
double UnixTimeNow();

/// CRC-32C (Castagnoli), the checksum of TFRecord framing. Crc32c("123456789") == 0xE3069283.
uint32_t Crc32c(const void* data, size_t size);

/// The masked form stored in TFRecord files, so that a CRC over data holding CRCs stays strong.
uint32_t MaskedCrc32c(const void* data, size_t size);

/// Writes `events.out.tfevents.<unix seconds>.<hostname>` in a directory, one Event per call.
/// Not thread-safe: one writer per thread, or a lock around it.
class TensorBoardWriter {
 public:
  /// Creates `dir` (and its parents) if missing and a new event file in it, never reusing an
  /// existing one. Throws std::runtime_error naming the path on failure.
  explicit TensorBoardWriter(const std::string& dir);
  /// Flushes and closes the file; errors at this point are not reported (call Flush to see them).
  ~TensorBoardWriter();
  TensorBoardWriter(TensorBoardWriter&&) noexcept;
  TensorBoardWriter& operator=(TensorBoardWriter&&) noexcept;
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

  /// One Event with one value; `value` is stored as a float (TensorBoard's simple_value).
  void AddScalar(const std::string& tag, int64_t step, double value,
                 double wall_time = UnixTimeNow());
  /// One Event holding every (tag, value) pair, all at the same step and wall time.
  void AddScalars(int64_t step, const std::vector<std::pair<std::string, double>>& values,
                  double wall_time = UnixTimeNow());
  /// Pushes buffered events to the file; throws std::runtime_error on a write error.
  void Flush();
  /// The event file's path.
  const std::string& path() const { return path_; }

 private:
  void WriteRecord(const std::string& data);

  struct FileCloser {
    void operator()(std::FILE* f) const;
  };
  std::string path_;
  std::unique_ptr<std::FILE, FileCloser> file_;
};

/// One scalar read back from an event file.
struct ScalarEvent {
  std::string tag;
  int64_t step = 0;
  double value = 0;  ///< the stored float, widened
  double wall_time = 0;
};

/// What ReadTensorBoardScalars does with a file that ends inside its last record, as a writer
/// killed mid-write (or still writing) leaves it. TensorBoard itself ignores such a tail.
enum class TornTail {
  kError,   ///< throw: the file must be complete
  kIgnore,  ///< return the complete records before it; bad CRCs still throw
};

/// Every simple_value scalar in an event file, in file order (an Event with several values gives
/// several entries). Checks both CRCs of every record and the message structure; throws
/// std::runtime_error naming the file and offset on corruption or (unless kIgnore) truncation.
std::vector<ScalarEvent> ReadTensorBoardScalars(const std::string& path,
                                                TornTail torn_tail = TornTail::kError);

/// What a resumed run does to `dir`'s event files: keeps the scalars with steps up to
/// `keep_up_to` in one new file and deletes the old files, so TensorBoard shows one curve, not
/// the interrupted run's tail overlapping the resumed one. A missing `dir` is left alone.
void ReplaceTensorBoardFiles(const std::string& dir, int64_t keep_up_to);

}  // namespace rimlab
