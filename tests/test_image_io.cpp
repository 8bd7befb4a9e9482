// The viewer's image output (viewer/image_io.h): PNG and GIF round trips, PNGs built by hand
// with python's zlib as an independent reference, giflib itself reading our delays, and every
// failure naming the file and leaving no partial file behind.
#include <gif_lib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "tests/file_test_util.h"
#include "viewer/image_io.h"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using file_test::RunPython;
using file_test::TempDir;
using rimlab::Frame;
using namespace rimlab::viewer;

namespace {

std::string RuntimeErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no std::runtime_error)";
}

Frame RandomFrame(int width, int height, unsigned seed) {
  std::mt19937 rng(seed);
  Frame frame;
  frame.Reset(width, height);
  for (uint8_t& v : frame.rgb) v = static_cast<uint8_t>(rng() & 0xff);
  return frame;
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

double MeanAbsError(const Frame& a, const Frame& b) {
  double sum = 0;
  for (size_t i = 0; i < a.rgb.size(); ++i) sum += std::abs(int(a.rgb[i]) - int(b.rgb[i]));
  return sum / static_cast<double>(a.rgb.size());
}

size_t DistinctColours(const Frame& frame) {
  std::vector<uint32_t> colours;
  for (size_t i = 0; i < frame.rgb.size(); i += 3) {
    colours.push_back(uint32_t(frame.rgb[i]) << 16 | uint32_t(frame.rgb[i + 1]) << 8 |
                      frame.rgb[i + 2]);
  }
  std::sort(colours.begin(), colours.end());
  return static_cast<size_t>(std::unique(colours.begin(), colours.end()) - colours.begin());
}

// The hand-built PNGs' pixels; the python script below computes the same.
int Channel(int x, int y, int c) {
  const int v[4] = {(x * 40 + y * 7) % 256, (y * 50 + 3) % 256, (x * y * 13 + 11) % 256,
                    (x + y) % 3 == 0 ? 0 : 128 + x};
  return v[c];
}

// Writes rgb.png and rgba.png (5x4) with no filter, Sub and Up filters on different rows.
const char* kPngScript = R"py(
import struct, zlib
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
def write(path, channels):
    w, h = 5, 4
    raw, prev = b"", [0] * (w * channels)
    for y in range(h):
        row = []
        for x in range(w):
            v = [(x * 40 + y * 7) % 256, (y * 50 + 3) % 256, (x * y * 13 + 11) % 256,
                 0 if (x + y) % 3 == 0 else 128 + x]
            row += v[:channels]
        kind = y % 3
        if kind == 1:
            out = [(row[i] - (row[i - channels] if i >= channels else 0)) % 256 for i in range(len(row))]
        elif kind == 2:
            out = [(row[i] - prev[i]) % 256 for i in range(len(row))]
        else:
            out = row
        raw += bytes([kind] + out)
        prev = row
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 6 if channels == 4 else 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw))
                + chunk(b"IEND", b""))
write(out + "/rgb.png", 3)
write(out + "/rgba.png", 4)
)py";

std::vector<int> DelaysOf(const std::string& path) {
  int error = 0;
  GifFileType* gif = DGifOpenFileName(path.c_str(), &error);
  REQUIRE(gif != nullptr);
  REQUIRE(DGifSlurp(gif) == GIF_OK);
  std::vector<int> delays;
  for (int i = 0; i < gif->ImageCount; ++i) {
    GraphicsControlBlock control{};
    CHECK(DGifSavedExtensionToGCB(gif, i, &control) == GIF_OK);
    delays.push_back(control.DelayTime);
  }
  DGifCloseFile(gif, &error);
  return delays;
}

}  // namespace

TEST_CASE("a PNG of random pixels reads back exactly, replacing an older file", "[image_io]") {
  TempDir dir;
  const std::string path = dir / "frame.png";
  WritePng(RandomFrame(7, 3, 1), path);
  const Frame frame = RandomFrame(37, 23, 2);
  WritePng(frame, path);
  const Frame back = ReadPng(path);
  CHECK(back.width == 37);
  CHECK(back.height == 23);
  CHECK(back.rgb == frame.rgb);
  CHECK(ReadBytes(path).substr(1, 3) == "PNG");
  CHECK_FALSE(fs::exists(path + ".partial"));
}

TEST_CASE("PNGs built by hand read as their pixels, alpha dropped", "[image_io][python]") {
  TempDir dir;
  REQUIRE(RunPython("out = \"" + dir.path.string() + "\"\n" + kPngScript) == 0);
  for (const char* name : {"rgb.png", "rgba.png"}) {
    INFO(name);
    const Frame frame = ReadPng(dir / name);
    REQUIRE(frame.width == 5);
    REQUIRE(frame.height == 4);
    for (int y = 0; y < 4; ++y) {
      for (int x = 0; x < 5; ++x) {
        for (int c = 0; c < 3; ++c) CHECK(int(frame.Pixel(x, y)[c]) == Channel(x, y, c));
      }
    }
  }
}

TEST_CASE("PNG failures name the file", "[image_io]") {
  TempDir dir;
  const Frame frame = RandomFrame(64, 64, 3);
  const std::string nowhere = dir / "missing/frame.png";
  CHECK_THAT(RuntimeErrorOf([&] { WritePng(frame, nowhere); }), Contains(nowhere));
  CHECK_THAT(RuntimeErrorOf([&] { ReadPng(nowhere); }), Contains(nowhere));

  const std::string text = dir / "text.png";
  WriteBytes(text, "not a PNG, just some text long enough to hold a header\n");
  CHECK_THAT(RuntimeErrorOf([&] { ReadPng(text); }), Contains(text));

  const std::string truncated = dir / "truncated.png";
  WritePng(frame, truncated);
  const std::string bytes = ReadBytes(truncated);
  WriteBytes(truncated, bytes.substr(0, bytes.size() / 2));
  CHECK_THAT(RuntimeErrorOf([&] { ReadPng(truncated); }), Contains(truncated));

  Frame bad = frame;
  bad.rgb.pop_back();
  CHECK_THROWS_AS(WritePng(bad, dir / "bad.png"), std::invalid_argument);
  CHECK_FALSE(fs::exists(dir / "bad.png"));
}

TEST_CASE("GIF frames of at most 256 colours read back exactly", "[image_io]") {
  TempDir dir;
  const std::string path = dir / "anim.gif";
  std::vector<Frame> frames(3);
  // 256 random colours, each used at least once; then two colours; then one.
  const Frame palette = RandomFrame(256, 1, 4);
  std::mt19937 rng(5);
  frames[0].Reset(40, 30);
  for (int i = 0; i < 40 * 30; ++i) {
    const int k = i < 256 ? i : static_cast<int>(rng() % 256);
    std::copy_n(&palette.rgb[3 * k], 3, &frames[0].rgb[3 * i]);
  }
  frames[1].Reset(40, 30, {10, 20, 30});
  frames[1].FillRect(5, 5, 20, 25, {200, 100, 0});
  frames[2].Reset(40, 30, {255, 255, 255});
  REQUIRE(DistinctColours(frames[0]) == 256);

  GifWriter writer(path, 40, 30, 70);
  for (const Frame& f : frames) writer.Add(f);
  CHECK_FALSE(fs::exists(path));
  CHECK(fs::exists(path + ".partial"));
  CHECK(writer.Finish() == 3);
  CHECK_FALSE(fs::exists(path + ".partial"));

  const std::vector<Frame> back = ReadGif(path);
  REQUIRE(back.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    INFO("frame " << i);
    CHECK(back[i].width == 40);
    CHECK(back[i].height == 30);
    CHECK(back[i].rgb == frames[i].rgb);
  }
  CHECK(DelaysOf(path) == std::vector<int>{7, 7, 7});
  CHECK_THROWS_AS(writer.Add(frames[0]), std::runtime_error);
  CHECK_THROWS_AS(writer.Finish(), std::runtime_error);
}

TEST_CASE("a GIF starts GIF89a, loops forever and rounds its delays", "[image_io]") {
  TempDir dir;
  const Frame frame = RandomFrame(4, 4, 6);
  for (const auto& [ms, cs] : std::vector<std::pair<int, int>>{{70, 7}, {25, 3}, {14, 2}, {0, 2}}) {
    INFO(ms << " ms");
    const std::string path = dir / ("delay" + std::to_string(ms) + ".gif");
    GifWriter writer(path, 4, 4, ms);
    writer.Add(frame);
    writer.Add(frame);
    CHECK(writer.Finish() == 2);
    CHECK(DelaysOf(path) == std::vector<int>{cs, cs});
    const std::string bytes = ReadBytes(path);
    CHECK(bytes.substr(0, 6) == "GIF89a");
    // Application extension, 11-byte block "NETSCAPE2.0", then sub-block 1: loop count 0.
    const std::string loop = std::string("\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00", 19);
    CHECK(bytes.find(loop) != std::string::npos);
  }
}

TEST_CASE("GIF frames with many colours stay close", "[image_io]") {
  TempDir dir;
  const std::string path = dir / "many.gif";
  const int w = 160, h = 120;
  Frame gradient;
  gradient.Reset(w, h);
  // Antialiased strokes: a few hundred blends of a pale ink over a dark, slightly shaded ground.
  Frame text;
  text.Reset(w, h);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      uint8_t* g = gradient.Pixel(x, y);
      g[0] = static_cast<uint8_t>(x * 255 / (w - 1));
      g[1] = static_cast<uint8_t>(y * 255 / (h - 1));
      g[2] = static_cast<uint8_t>((x + 2 * y) * 255 / (w - 1 + 2 * (h - 1)));
      const double ink =
          std::clamp(1.5 - std::abs(std::sin(x * 0.45) * 4 + std::cos(y * 0.3) * 3), 0.0, 1.0);
      const double ground[3] = {20.0 + x / 16, 24.0, 32.0 + y / 12};
      const double pale[3] = {235, 225, 150};
      uint8_t* t = text.Pixel(x, y);
      for (int c = 0; c < 3; ++c)
        t[c] = static_cast<uint8_t>(ground[c] + ink * (pale[c] - ground[c]));
    }
  }
  CHECK(DistinctColours(gradient) > 1000);
  CHECK(DistinctColours(text) > 300);
  GifWriter writer(path, w, h, 100);
  writer.Add(gradient);
  writer.Add(text);
  REQUIRE(writer.Finish() == 2);
  const std::vector<Frame> back = ReadGif(path);
  REQUIRE(back.size() == 2);
  const double gradient_error = MeanAbsError(back[0], gradient);
  const double text_error = MeanAbsError(back[1], text);
  INFO("mean abs error: gradient " << gradient_error << ", text " << text_error);
  CHECK(gradient_error < 6.0);
  CHECK(text_error < 6.0);
}

TEST_CASE("GIF writer misuse and failures", "[image_io]") {
  TempDir dir;
  const std::string path = dir / "anim.gif";
  CHECK_THROWS_AS(GifWriter(path, 0, 10, 50), std::invalid_argument);
  CHECK_THROWS_AS(GifWriter(path, 10, 10, -1), std::invalid_argument);
  const std::string nowhere = dir / "missing/anim.gif";
  CHECK_THAT(RuntimeErrorOf([&] { GifWriter(nowhere, 8, 8, 50); }), Contains(nowhere));

  SECTION("a frame of the wrong size is refused and the writer carries on") {
    WriteBytes(path, "older");  // replaced when the writer finishes
    GifWriter writer(path, 8, 8, 50);
    CHECK_THROWS_AS(writer.Add(RandomFrame(8, 9, 7)), std::invalid_argument);
    writer.Add(RandomFrame(8, 8, 8));
    CHECK(writer.Finish() == 1);
    CHECK(ReadGif(path).size() == 1);
  }
  SECTION("an unfinished writer leaves no file, and an older one as it was") {
    {
      GifWriter writer(path, 8, 8, 50);
      writer.Add(RandomFrame(8, 8, 9));
    }
    CHECK_FALSE(fs::exists(path));
    CHECK_FALSE(fs::exists(path + ".partial"));
    WriteBytes(path, "older");
    {
      GifWriter writer(path, 8, 8, 50);
      writer.Add(RandomFrame(8, 8, 9));
      GifWriter moved = std::move(writer);
    }
    CHECK(ReadBytes(path) == "older");
    CHECK_FALSE(fs::exists(path + ".partial"));
  }
  SECTION("reading a missing, foreign or truncated GIF names the file") {
    CHECK_THAT(RuntimeErrorOf([&] { ReadGif(nowhere); }), Contains(nowhere));
    const std::string png = dir / "frame.gif";
    WritePng(RandomFrame(8, 8, 11), png);
    CHECK_THAT(RuntimeErrorOf([&] { ReadGif(png); }), Contains(png));
    GifWriter writer(path, 32, 32, 50);
    writer.Add(RandomFrame(32, 32, 10));
    writer.Finish();
    const std::string bytes = ReadBytes(path);
    WriteBytes(path, bytes.substr(0, bytes.size() / 2));
    CHECK_THAT(RuntimeErrorOf([&] { ReadGif(path); }), Contains(path));
  }
}
