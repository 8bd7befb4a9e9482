#include "viewer/font.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace rimlab::viewer {

namespace {

// TTF_Init is counted by SDL_ttf itself; pairing each Font with one Init/Quit keeps it balanced.
void InitTtf() {
  if (TTF_Init() != 0) throw std::runtime_error(std::string("TTF_Init failed: ") + TTF_GetError());
}

}  // namespace

std::string FontPath(bool bold) {
  const char* env = std::getenv(bold ? "RIMLAB_FONT_BOLD" : "RIMLAB_FONT");
  if (env != nullptr && *env != '\0') {
    if (!std::filesystem::is_regular_file(env)) {
      throw std::runtime_error(std::string(bold ? "RIMLAB_FONT_BOLD" : "RIMLAB_FONT") + "=" + env +
                               ": no such font file");
    }
    return env;
  }
  const std::string path =
      std::string("/usr/share/fonts/truetype/dejavu/DejaVuSans") + (bold ? "-Bold" : "") + ".ttf";
  if (!std::filesystem::is_regular_file(path)) {
    throw std::runtime_error(path +
                             ": font not found (install fonts-dejavu-core: scripts/setup.sh, or "
                             "set RIMLAB_FONT to a .ttf file)");
  }
  return path;
}

Font::Font(int pixel_size, bool bold) {
  const std::string path = FontPath(bold);
  InitTtf();
  font_ = TTF_OpenFont(path.c_str(), pixel_size);
  if (font_ == nullptr) {
    const std::string error = TTF_GetError();
    TTF_Quit();
    throw std::runtime_error(path + ": cannot open the font (" + error + ")");
  }
  height_ = TTF_FontLineSkip(font_);
}

Font::~Font() {
  TTF_CloseFont(font_);
  TTF_Quit();
}

int Font::Width(const std::string& text) const {
  int w = 0;
  int h = 0;
  if (text.empty() || TTF_SizeUTF8(font_, text.c_str(), &w, &h) != 0) return 0;
  return w;
}

int Font::Draw(Frame* frame, int x, int y, const std::string& text, Rgb color) const {
  if (text.empty()) return x;
  SDL_Surface* s =
      TTF_RenderUTF8_Blended(font_, text.c_str(), SDL_Color{color.r, color.g, color.b, 255});
  if (s == nullptr) return x;
  // Blended text is ARGB8888 coverage: mix the colour over the frame by each pixel's alpha.
  SDL_Surface* argb = s->format->format == SDL_PIXELFORMAT_ARGB8888
                          ? s
                          : SDL_ConvertSurfaceFormat(s, SDL_PIXELFORMAT_ARGB8888, 0);
  if (argb != nullptr) {
    SDL_LockSurface(argb);
    const int x0 = std::max(0, -x);
    const int y0 = std::max(0, -y);
    const int x1 = std::min(argb->w, frame->width - x);
    const int y1 = std::min(argb->h, frame->height - y);
    for (int py = y0; py < y1; ++py) {
      const auto* row = reinterpret_cast<const uint32_t*>(
          static_cast<const uint8_t*>(argb->pixels) + static_cast<size_t>(py) * argb->pitch);
      for (int px = x0; px < x1; ++px) {
        const uint32_t a = row[px] >> 24;
        if (a == 0) continue;
        uint8_t* p = frame->Pixel(x + px, y + py);
        const uint8_t c[3] = {color.r, color.g, color.b};
        for (int k = 0; k < 3; ++k) {
          p[k] = static_cast<uint8_t>((c[k] * a + p[k] * (255 - a) + 127) / 255);
        }
      }
    }
    SDL_UnlockSurface(argb);
    if (argb != s) SDL_FreeSurface(argb);
  }
  const int end = x + s->w;
  SDL_FreeSurface(s);
  return end;
}

int Font::DrawClipped(Frame* frame, int x, int y, const std::string& text, Rgb color,
                      int max_x) const {
  if (x + Width(text) <= max_x) return Draw(frame, x, y, text, color);
  // Cut whole UTF-8 characters until the text and the ellipsis fit.
  std::string cut = text;
  while (!cut.empty()) {
    while ((static_cast<unsigned char>(cut.back()) & 0xC0) == 0x80 && cut.size() > 1) {
      cut.pop_back();  // continuation bytes, then the character's lead byte below
    }
    cut.pop_back();
    if (x + Width(cut + "…") <= max_x) break;
  }
  return Draw(frame, x, y, cut + "…", color);
}

}  // namespace rimlab::viewer
