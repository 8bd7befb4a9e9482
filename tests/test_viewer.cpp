// The viewer: a known recorded episode composed headless, checked at the pixels that matter
// against the env's own text map (not its renderer); the command line's PNGs and GIF against the
// same composition; live play of a fixed checkpoint twice; a real window under Xvfb driven by key
// presses; and every bad input exiting 2 with one line.
#include <sys/wait.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "file_test_util.h"
#include "runners/run/recording.h"
#include "viewer/image_io.h"
#include "viewer/panel.h"
#include "viewer/source.h"

namespace fs = std::filesystem;
using rimlab::Frame;
using rimlab::Rgb;
using namespace rimlab::viewer;

namespace {

const char* kFixture = "tests/fixtures/recordings/pickup5_rim4.json";

struct Run {
  int status = -1;
  std::string err;
};

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Runs a shell command line; stderr through a file so that it can be checked.
Run Shell(const std::string& cmd, const std::string& err_path) {
  Run r;
  const int raw = std::system((cmd + " >/dev/null 2>" + err_path).c_str());
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.err = ReadText(err_path);
  return r;
}

Run Viewer(const std::string& args, const file_test::TempDir& tmp) {
  return Shell(std::string(VIEWER_BINARY) + " " + args, tmp / "viewer.stderr");
}

bool Same(const uint8_t* p, Rgb c) {
  return p[0] == c.r && p[1] == c.g && p[2] == c.b;
}

Rgb Lighten(Rgb c) {  // MiniGrid's highlight of the cells in the agent's view
  auto f = [](uint8_t v) { return static_cast<uint8_t>(v + (255 - v) * 3 / 10); };
  return {f(c.r), f(c.g), f(c.b)};
}

// The env's text map (two characters a cell, Describe()'s lines after the first).
std::vector<std::string> MapOf(const std::string& description) {
  std::vector<std::string> rows;
  std::istringstream in(description);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    if (!line.empty()) rows.push_back(line);
  }
  return rows;
}

// The centre pixel of map cell (x, y) in the composed frame.
const uint8_t* CellCentre(const Frame& out, const Layout& L, const Frame& world, int grid_w, int x,
                          int y) {
  const double tile = static_cast<double>(world.width) / grid_w;
  const int px = L.world.x + static_cast<int>(((x + 0.5) * tile) * L.world_scale);
  const int py = L.world.y + static_cast<int>(((y + 0.5) * tile) * L.world_scale);
  return out.Pixel(px, py);
}

std::string Cmd(const char* binary, const std::string& args) {
  return std::string(binary) + " " + args;
}

}  // namespace

TEST_CASE("a recorded episode composed: agent, objects, units now and the units strip") {
  const rimlab::EpisodeRecording rec = rimlab::LoadRecording(kFixture);
  auto source = MakeReplaySource(kFixture);
  rimlab::Replayer reference(rec, kFixture);  // the env's own state, read from its text map
  const Composer composer;
  Scene scene;
  Frame out;
  const std::map<char, Rgb> palette = {{'R', {255, 0, 0}},
                                       {'G', {0, 255, 0}},
                                       {'B', {0, 0, 255}},
                                       {'P', {112, 39, 195}},
                                       {'Y', {255, 255, 0}}};
  int balls_checked = 0;
  for (int t = 0; t <= rec.length; ++t) {
    if (t > 0) {
      REQUIRE(source->Advance());
      reference.Next();
    }
    source->Fill(&scene);
    const Layout L = composer.Compose(scene, 1280, 720, &out);
    REQUIRE(out.width == 1280);
    REQUIRE(out.height == 720);
    REQUIRE(scene.step == t);
    const auto map = MapOf(reference.env().Describe());
    const int grid_w = static_cast<int>(map[0].size() / 2);
    for (int y = 0; y < static_cast<int>(map.size()); ++y) {
      for (int x = 0; x < grid_w; ++x) {
        const std::string cell = map[static_cast<size_t>(y)].substr(static_cast<size_t>(2 * x), 2);
        const uint8_t* p = CellCentre(out, L, scene.world, grid_w, x, y);
        if (cell == ">>" || cell == "<<" || cell == "^^" || cell == "VV") {
          INFO("step " << t << ": the agent at (" << x << ", " << y << ")");
          CHECK(Same(p, {255, 0, 0}));  // the red triangle covers its cell's centre
        } else if (cell[0] == 'A' && palette.count(cell[1]) != 0) {
          INFO("step " << t << ": a ball " << cell << " at (" << x << ", " << y << ")");
          const Rgb c = palette.at(cell[1]);
          CHECK((Same(p, c) || Same(p, Lighten(c))));
          ++balls_checked;
        }
      }
    }
    // Units now: lit exactly where the recording's mask is (none after the last step).
    for (int u = 0; u < rec.num_units; ++u) {
      const uint8_t* p = out.Pixel(L.units.x + u * (L.unit_box + L.unit_gap) + 2, L.units.y + 2);
      const bool on =
          t < rec.length && rec.unit_mask[static_cast<size_t>(t)][static_cast<size_t>(u)] > 0.5f;
      CHECK(Same(p, on ? kUnitActive : kUnitIdle));
    }
    // The strip: every column has exactly k_A lit cells, the recording's own, and lit cells
    // after the current step are dimmer than those reached.
    REQUIRE(L.timeline_cols == rec.length);
    for (int c = 0; c < L.timeline_cols; ++c) {
      int lit = 0;
      for (int u = 0; u < rec.num_units; ++u) {
        const uint8_t* p =
            out.Pixel(L.timeline.x + c * L.cell_w + 1, L.timeline.y + u * L.cell_h + 1);
        const bool on = rec.unit_mask[static_cast<size_t>(c)][static_cast<size_t>(u)] > 0.5f;
        CHECK(Same(p, on ? (c <= t ? kUnitActive : kUnitActiveLater) : kUnitIdle));
        lit += Same(p, kUnitActive) || Same(p, kUnitActiveLater) ? 1 : 0;
      }
      CHECK(lit == 2);  // the fixture's k_A
    }
  }
  CHECK(balls_checked > 0);
}

TEST_CASE("attention over the agent's view: the active units' cells, in the encoder's order") {
  const rimlab::EpisodeRecording rec = rimlab::LoadRecording(kFixture);
  rimlab::Replayer replay(rec, kFixture);
  Scene scene;
  REQUIRE(replay.env().RenderView(replay.observation(), 16, &scene.view, &scene.view_rows,
                                  &scene.view_cols));
  REQUIRE(scene.view_rows == 7);
  REQUIRE(scene.view_cols == 7);
  scene.num_units = 2;
  scene.set_size = 49;
  SceneStep step;
  step.action = 0;
  step.unit_mask = {1.0f, 0.0f};
  scene.steps = {step};
  const Composer composer;
  Frame plain;
  const Layout L = composer.Compose(scene, 1280, 720, &plain);
  // Unit 0 (active) reads cell 10 only, unit 1 (inactive) cell 20 only.
  scene.input_attention.assign(2 * 50, 0.0f);
  scene.input_attention[0 * 50 + 1 + 10] = 1.0f;
  scene.input_attention[1 * 50 + 1 + 20] = 1.0f;
  Frame lit;
  composer.Compose(scene, 1280, 720, &lit);
  const int tile = L.view_tile;
  REQUIRE(tile > 0);
  int changed_inside = 0;
  int changed_outside = 0;
  for (int y = L.view.y; y < L.view.y + L.view.h; ++y) {
    for (int x = L.view.x; x < L.view.x + L.view.w; ++x) {
      const bool differs = !std::equal(plain.Pixel(x, y), plain.Pixel(x, y) + 3, lit.Pixel(x, y));
      const bool in_cell_10 = (x - L.view.x) / tile == 10 % 7 && (y - L.view.y) / tile == 10 / 7;
      (in_cell_10 ? changed_inside : changed_outside) += differs ? 1 : 0;
    }
  }
  CHECK(changed_inside == tile * tile);
  CHECK(changed_outside == 0);
}

TEST_CASE("the layout follows the size and fits a 1280x800 screen") {
  auto source = MakeReplaySource(kFixture);
  const Composer composer;
  Scene scene;
  source->Fill(&scene);
  Frame out;
  for (const auto& [w, h] :
       std::vector<std::pair<int, int>>{{1280, 720}, {1000, 640}, {1920, 1080}}) {
    const Layout L = composer.Compose(scene, w, h, &out);
    CHECK(out.width == w);
    CHECK(out.height == h);
    // Everything inside the frame, the world left of the panel's units and strip.
    CHECK(L.world.x >= 0);
    CHECK(L.world.y + L.world.h <= h);
    CHECK(L.world.x + L.world.w < L.units.x);
    CHECK(L.timeline.y + L.timeline.h < h);
    CHECK(L.units.x + L.units.w <= w);
  }
}

TEST_CASE("headless output: PNGs and a GIF of the frames the composer makes") {
  file_test::TempDir tmp;
  const std::string out = tmp / "frames";
  const Run r = Viewer("--replay " + std::string(kFixture) + " --headless --frames 4 --out " + out +
                           " --gif --size 1000x640",
                       tmp);
  REQUIRE(r.status == 0);
  auto source = MakeReplaySource(kFixture);
  const Composer composer;
  Scene scene;
  scene.fps = 4.0;
  Frame expected;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) source->Advance();
    source->Fill(&scene);
    composer.Compose(scene, 1000, 640, &expected);
    char name[32];
    std::snprintf(name, sizeof(name), "frame-%05d.png", i);
    const Frame got = ReadPng(out + "/" + name);
    INFO(name);
    CHECK(got.width == 1000);
    CHECK(got.height == 640);
    CHECK(got.rgb == expected.rgb);
  }
  const auto gif = ReadGif(out + "/episode.gif");
  CHECK(gif.size() == 4);
  CHECK(gif.front().width == 1000);
}

TEST_CASE(
    "live play of a fixed checkpoint shows the same frames twice, and others for another seed") {
  file_test::TempDir tmp;
  const Run train = Shell(Cmd(RIMLAB_BINARY,
                              "train configs/pickup_rim.yaml total_frames=2048 "
                              "pool.num_envs=4 eval.episodes=0 --runs " +
                                  tmp.path.string()),
                          tmp / "train.stderr");
  INFO(train.err);
  REQUIRE(train.status == 0);
  const std::string run = tmp / "pickup_rim";
  for (const char* dir : {"a", "b", "c"}) {
    const std::string seed = std::string(dir) == "c" ? "6" : "5";
    const Run r =
        Viewer(run + " --seed " + seed + " --headless --frames 10 --out " + (tmp / dir), tmp);
    INFO(r.err);
    REQUIRE(r.status == 0);
  }
  int differs_c = 0;
  for (int i = 0; i < 10; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "/frame-%05d.png", i);
    const Frame a = ReadPng(tmp / "a" + name);
    const Frame b = ReadPng(tmp / "b" + name);
    const Frame c = ReadPng(tmp / "c" + name);
    CHECK(a.rgb == b.rgb);
    differs_c += a.rgb != c.rgb ? 1 : 0;
  }
  CHECK(differs_c > 0);
}

TEST_CASE("a real window under Xvfb, driven by key presses") {
  REQUIRE(std::system("command -v xvfb-run >/dev/null && command -v xdotool >/dev/null") == 0);
  file_test::TempDir tmp;
  // Pause, restart, step twice, screenshot; then the help overlay and a second screenshot; quit.
  const std::string script = tmp / "drive.sh";
  {
    std::ofstream s(script);
    s << VIEWER_BINARY << " --replay " << fs::absolute(kFixture).string()
      << " --size 1000x640 --shots " << (tmp / "shots") << " --record " << (tmp / "record")
      << " --fps 2 &\n"
      << "pid=$!\n"
      << "wid=$(timeout 30 xdotool search --sync --onlyvisible --name rimlab | head -1)\n"
      << "[ -n \"$wid\" ] || { kill $pid; exit 3; }\n"
      << "k() { xdotool key --window $wid \"$1\"; sleep 0.4; }\n"
      << "k space; k r; k Right; k Right; k c; k h; k c\n"
      << "xdotool windowsize $wid 1100 700; sleep 0.6; k c; k q\n"
      << "wait $pid\n";
  }
  const Run r = Shell("timeout 120 xvfb-run -a -s '-screen 0 1280x800x24' bash " + script,
                      tmp / "xvfb.stderr");
  INFO(r.err);
  REQUIRE(r.status == 0);
  const Frame shot = ReadPng(tmp / "shots/rimlab-shot-00001.png");
  const Frame help = ReadPng(tmp / "shots/rimlab-shot-00002.png");
  REQUIRE(shot.width == 1000);
  REQUIRE(shot.height == 640);
  // The window shows step 2: its world matches a headless composition of step 2 exactly (the
  // panel differs only in saying "paused").
  auto source = MakeReplaySource(kFixture);
  source->Advance();
  source->Advance();
  Scene scene;
  source->Fill(&scene);
  const Composer composer;
  Frame expected;
  const Layout L = composer.Compose(scene, 1000, 640, &expected);
  int mismatched = 0;
  for (int y = L.world.y; y < L.world.y + L.world.h; ++y) {
    for (int x = L.world.x; x < L.world.x + L.world.w; ++x) {
      mismatched += Same(shot.Pixel(x, y), {expected.Pixel(x, y)[0], expected.Pixel(x, y)[1],
                                            expected.Pixel(x, y)[2]})
                        ? 0
                        : 1;
    }
  }
  CHECK(mismatched == 0);
  // The help overlay darkens the middle of the window.
  const uint8_t* before = shot.Pixel(500, 320);
  const uint8_t* after = help.Pixel(500, 320);
  CHECK(after[0] + after[1] + after[2] < before[0] + before[1] + before[2]);
  // The layout followed the window to its new size.
  const Frame resized = ReadPng(tmp / "shots/rimlab-shot-00003.png");
  CHECK(resized.width == 1100);
  CHECK(resized.height == 700);
  // --record kept a frame per step shown (the start, the restart, two steps at least), at the
  // size the viewer started with, and the same frames as PNGs.
  const auto gif = ReadGif(tmp / "record/episode-00001.gif");
  CHECK(gif.size() >= 4);
  for (const Frame& f : gif) CHECK((f.width == 1000 && f.height == 640));
  CHECK(fs::exists(tmp / "record/episode-00001/frame-00003.png"));
}

TEST_CASE("bad input: one line, exit 2, never a crash") {
  file_test::TempDir tmp;
  // A run directory whose checkpoint is garbage, and one whose config names another core.
  fs::create_directories(tmp / "corrupt/checkpoints");
  fs::copy_file("configs/pickup_rim.yaml", tmp / "corrupt/config.yaml");
  { std::ofstream(tmp / "corrupt/checkpoints/ckpt_000000002048.pt") << "not a checkpoint"; }
  const Run train = Shell(Cmd(RIMLAB_BINARY,
                              "train configs/pickup_rim.yaml total_frames=2048 "
                              "pool.num_envs=4 eval.episodes=0 --runs " +
                                  tmp.path.string()),
                          tmp / "train.stderr");
  REQUIRE(train.status == 0);
  fs::create_directories(tmp / "mismatch/checkpoints");
  fs::copy_file("configs/pickup_lstm.yaml", tmp / "mismatch/config.yaml");
  for (const auto& e : fs::directory_iterator(tmp / "pickup_rim/checkpoints")) {
    fs::copy_file(e.path(), tmp / "mismatch/checkpoints" / e.path().filename());
  }
  // A recording of another env: it does not replay.
  std::string wrong_env = ReadText(kFixture);
  const auto at = wrong_env.find("size: 5");
  REQUIRE(at != std::string::npos);
  wrong_env.replace(at, 7, "size: 6");
  { std::ofstream(tmp / "wrong_env.json") << wrong_env; }
  { std::ofstream(tmp / "corrupt.json") << "{\"format\": \"rimlab-episode\", "; }

  const std::string headless = " --headless --frames 2 --out " + (tmp / "out");
  for (const std::string& args :
       {tmp / "absent" + headless, tmp / "corrupt" + headless, tmp / "mismatch" + headless,
        "--replay " + (tmp / "absent.json") + headless,
        "--replay " + (tmp / "corrupt.json") + headless,
        "--replay " + (tmp / "wrong_env.json") + headless,
        "configs/distractors.yaml env.size=2" + headless,
        std::string("--replay ") + kFixture + " --size 10x10" + headless,
        std::string("--replay ") + kFixture + " --headless --frames 2",
        std::string("--replay ") + kFixture + " --seed 3" + headless,
        tmp / "pickup_rim" + " --policy keys" + headless}) {
    const Run r = Viewer(args, tmp);
    INFO(args << "\n" << r.err);
    CHECK(r.status == 2);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.err.find("error") != std::string::npos);
  }
}
