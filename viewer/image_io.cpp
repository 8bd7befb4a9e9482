#include "viewer/image_io.h"

#include <gif_lib.h>
#include <png.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "viewer/gif_palette.h"

namespace rimlab::viewer {
namespace {

[[noreturn]] void Fail(const std::string& path, const std::string& what) {
  throw std::runtime_error(path + ": " + what);
}

std::string ErrnoText() {
  return std::strerror(errno);
}

std::string GifError(int code) {
  const char* text = GifErrorString(code);  // null for codes it does not know
  return text ? text : "giflib error " + std::to_string(code);
}

void CheckFrame(const Frame& frame, const char* caller) {
  if (frame.width <= 0 || frame.height <= 0 ||
      frame.rgb.size() != static_cast<size_t>(frame.width) * frame.height * 3) {
    throw std::invalid_argument(std::string(caller) + ": a " + std::to_string(frame.width) + "x" +
                                std::to_string(frame.height) + " frame with " +
                                std::to_string(frame.rgb.size()) + " bytes of RGB");
  }
}

/// Closes `file` and renames `partial` over `path`; on failure removes `partial` and throws.
void CommitPartial(std::FILE* file, const std::string& partial, const std::string& path) {
  bool ok = std::fflush(file) == 0 && !std::ferror(file);
  std::string error = ok ? "" : ErrnoText();
  if (std::fclose(file) != 0 && ok) ok = false, error = ErrnoText();
  if (!ok) {
    std::remove(partial.c_str());
    Fail(path, "cannot write " + partial + ": " + error);
  }
  if (std::rename(partial.c_str(), path.c_str()) != 0) {
    error = ErrnoText();
    std::remove(partial.c_str());
    Fail(path, "cannot rename " + partial + " to it: " + error);
  }
}

/// libpng's simplified API: it does its own setjmp/longjmp error handling inside C, so none of
/// it has to cross our C++ frames. png_image_free is safe on an image already freed.
struct PngImage {
  png_image image{};
  PngImage() { image.version = PNG_IMAGE_VERSION; }
  ~PngImage() { png_image_free(&image); }
  PngImage(const PngImage&) = delete;
  PngImage& operator=(const PngImage&) = delete;
};

int WriteToFile(GifFileType* gif, const GifByteType* data, int length) {
  return static_cast<int>(
      std::fwrite(data, 1, static_cast<size_t>(length), static_cast<std::FILE*>(gif->UserData)));
}

struct CloseDecoder {
  void operator()(GifFileType* gif) const { DGifCloseFile(gif, nullptr); }
};

struct FreeColourMap {
  void operator()(ColorMapObject* map) const { GifFreeMapObject(map); }
};

}  // namespace

void WritePng(const Frame& frame, const std::string& path) {
  CheckFrame(frame, "WritePng");
  const std::string partial = path + ".partial";
  std::FILE* file = std::fopen(partial.c_str(), "wb");
  if (!file) Fail(path, "cannot create " + partial + ": " + ErrnoText());
  PngImage png;
  png.image.width = static_cast<png_uint_32>(frame.width);
  png.image.height = static_cast<png_uint_32>(frame.height);
  png.image.format = PNG_FORMAT_RGB;
  if (!png_image_write_to_stdio(&png.image, file, 0, frame.rgb.data(), 0, nullptr)) {
    std::fclose(file);
    std::remove(partial.c_str());
    Fail(path, std::string("cannot write PNG: ") + png.image.message);
  }
  CommitPartial(file, partial, path);
}

Frame ReadPng(const std::string& path) {
  PngImage png;
  if (!png_image_begin_read_from_file(&png.image, path.c_str())) {
    Fail(path, std::string("cannot read PNG: ") + png.image.message);
  }
  // Asked for RGBA so that libpng keeps the colours as stored instead of compositing them.
  png.image.format = PNG_FORMAT_RGBA;
  constexpr uint64_t kMaxPixels = uint64_t(1) << 28;
  if (uint64_t(png.image.width) * png.image.height > kMaxPixels) {
    Fail(path, "PNG too large: " + std::to_string(png.image.width) + "x" +
                   std::to_string(png.image.height));
  }
  std::vector<uint8_t> rgba(PNG_IMAGE_SIZE(png.image));
  if (!png_image_finish_read(&png.image, nullptr, rgba.data(), 0, nullptr)) {
    Fail(path, std::string("cannot read PNG: ") + png.image.message);
  }
  Frame frame;
  frame.width = static_cast<int>(png.image.width);
  frame.height = static_cast<int>(png.image.height);
  frame.rgb.resize(rgba.size() / 4 * 3);
  for (size_t i = 0, n = rgba.size() / 4; i < n; ++i) {
    std::copy_n(&rgba[4 * i], 3, &frame.rgb[3 * i]);
  }
  return frame;
}

struct GifWriter::State {
  std::string path, partial;
  int width = 0, height = 0, delay_cs = 0, frames = 0;
  std::FILE* file = nullptr;
  GifFileType* gif = nullptr;  // null once closed

  ~State() { Abort(); }
  void Abort() noexcept {
    if (gif) EGifCloseFile(std::exchange(gif, nullptr), nullptr);
    if (file) {
      std::fclose(std::exchange(file, nullptr));
      std::remove(partial.c_str());
    }
  }
  /// A failed write leaves the file unusable: close it before reporting.
  void Check(int status, const char* step) {
    if (status == GIF_OK) return;
    const int code = gif->Error;
    Abort();
    Fail(path, std::string("cannot write GIF (") + step + "): " + GifError(code));
  }
};

GifWriter::GifWriter(const std::string& path, int width, int height, int delay_ms)
    : state_(std::make_unique<State>()) {
  if (width < 1 || width > 65535 || height < 1 || height > 65535 || delay_ms < 0) {
    throw std::invalid_argument("GifWriter: " + std::to_string(width) + "x" +
                                std::to_string(height) + " frames, " + std::to_string(delay_ms) +
                                " ms each");
  }
  State& s = *state_;
  s.path = path;
  s.partial = path + ".partial";
  s.width = width;
  s.height = height;
  s.delay_cs = std::clamp((delay_ms + 5) / 10, 2, 65535);
  s.file = std::fopen(s.partial.c_str(), "wb");
  if (!s.file) Fail(path, "cannot create " + s.partial + ": " + ErrnoText());
  int error = 0;
  s.gif = EGifOpen(s.file, WriteToFile, &error);
  if (!s.gif) Fail(path, "cannot start GIF: " + GifError(error));
  EGifSetGifVersion(s.gif, true);  // GIF89a, needed for the delays and the loop
  s.Check(EGifPutScreenDesc(s.gif, width, height, 8, 0, nullptr), "screen");
  // The NETSCAPE2.0 application extension; sub-block 1 holds the loop count, 0 meaning forever.
  static const char kApplication[] = "NETSCAPE2.0";
  static const GifByteType kLoopForever[] = {1, 0, 0};
  s.Check(EGifPutExtensionLeader(s.gif, APPLICATION_EXT_FUNC_CODE), "loop");
  s.Check(EGifPutExtensionBlock(s.gif, 11, kApplication), "loop");
  s.Check(EGifPutExtensionBlock(s.gif, 3, kLoopForever), "loop");
  s.Check(EGifPutExtensionTrailer(s.gif), "loop");
}

GifWriter::~GifWriter() = default;
GifWriter::GifWriter(GifWriter&&) noexcept = default;
GifWriter& GifWriter::operator=(GifWriter&&) noexcept = default;

void GifWriter::Add(const Frame& frame) {
  if (!state_ || !state_->gif) Fail(state_ ? state_->path : "GifWriter", "Add on a closed GIF");
  State& s = *state_;
  if (frame.width != s.width || frame.height != s.height) {
    throw std::invalid_argument(s.path + ": a " + std::to_string(frame.width) + "x" +
                                std::to_string(frame.height) + " frame in a " +
                                std::to_string(s.width) + "x" + std::to_string(s.height) + " GIF");
  }
  CheckFrame(frame, "GifWriter::Add");
  GifPalette palette = BuildGifPalette(frame);
  std::vector<GifColorType> colours(palette.colours.size() / 3);
  for (size_t k = 0; k < colours.size(); ++k) {
    const uint8_t* c = &palette.colours[3 * k];
    colours[k] = GifColorType{c[0], c[1], c[2]};
  }
  const std::unique_ptr<ColorMapObject, FreeColourMap> map(
      GifMakeMapObject(static_cast<int>(colours.size()), colours.data()));
  if (!map) throw std::bad_alloc();

  GraphicsControlBlock control{};
  control.DisposalMode = DISPOSE_DO_NOT;
  control.DelayTime = s.delay_cs;
  control.TransparentColor = NO_TRANSPARENT_COLOR;
  GifByteType extension[4];
  const size_t length = EGifGCBToExtension(&control, extension);
  s.Check(EGifPutExtension(s.gif, GRAPHICS_EXT_FUNC_CODE, static_cast<int>(length), extension),
          "frame");
  s.Check(EGifPutImageDesc(s.gif, 0, 0, s.width, s.height, false, map.get()), "frame");
  for (int y = 0; y < s.height; ++y) {
    s.Check(EGifPutLine(s.gif, &palette.indices[static_cast<size_t>(y) * s.width], s.width),
            "frame");
  }
  ++s.frames;
}

int GifWriter::Finish() {
  if (!state_ || !state_->gif) Fail(state_ ? state_->path : "GifWriter", "Finish on a closed GIF");
  State& s = *state_;
  int error = 0;
  if (EGifCloseFile(std::exchange(s.gif, nullptr), &error) != GIF_OK) {
    s.Abort();
    Fail(s.path, "cannot close GIF: " + GifError(error));
  }
  CommitPartial(std::exchange(s.file, nullptr), s.partial, s.path);
  return s.frames;
}

std::vector<Frame> ReadGif(const std::string& path) {
  int error = 0;
  const std::unique_ptr<GifFileType, CloseDecoder> gif(DGifOpenFileName(path.c_str(), &error));
  if (!gif) Fail(path, "cannot read GIF: " + GifError(error));
  if (DGifSlurp(gif.get()) != GIF_OK) {
    Fail(path, "cannot read GIF: " + GifError(gif->Error));
  }
  if (gif->SWidth <= 0 || gif->SHeight <= 0) Fail(path, "GIF with an empty screen");
  const ColorMapObject* global = gif->SColorMap;
  Rgb background;
  if (global && gif->SBackGroundColor < global->ColorCount) {
    const GifColorType& c = global->Colors[gif->SBackGroundColor];
    background = Rgb{c.Red, c.Green, c.Blue};
  }
  Frame canvas;
  canvas.Reset(gif->SWidth, gif->SHeight, background);
  std::vector<Frame> frames;
  for (int i = 0; i < gif->ImageCount; ++i) {
    const SavedImage& image = gif->SavedImages[i];
    const GifImageDesc& desc = image.ImageDesc;
    const ColorMapObject* map = desc.ColorMap ? desc.ColorMap : global;
    if (!map) Fail(path, "frame " + std::to_string(i) + " has no colour map");
    GraphicsControlBlock control{};
    control.TransparentColor = NO_TRANSPARENT_COLOR;
    DGifSavedExtensionToGCB(gif.get(), i, &control);  // keeps the defaults when there is none
    const Frame previous = control.DisposalMode == DISPOSE_PREVIOUS ? canvas : Frame{};
    for (int y = 0; y < desc.Height; ++y) {
      for (int x = 0; x < desc.Width; ++x) {
        const int index = image.RasterBits[static_cast<size_t>(y) * desc.Width + x];
        if (index == control.TransparentColor) continue;
        if (index >= map->ColorCount) Fail(path, "frame " + std::to_string(i) + ": bad index");
        const GifColorType& c = map->Colors[index];
        canvas.Set(desc.Left + x, desc.Top + y, Rgb{c.Red, c.Green, c.Blue});  // clips
      }
    }
    frames.push_back(canvas);
    if (control.DisposalMode == DISPOSE_BACKGROUND) {
      canvas.FillRect(desc.Left, desc.Top, desc.Left + desc.Width, desc.Top + desc.Height,
                      background);
    } else if (control.DisposalMode == DISPOSE_PREVIOUS) {
      canvas = previous;
    }
  }
  return frames;
}

}  // namespace rimlab::viewer
