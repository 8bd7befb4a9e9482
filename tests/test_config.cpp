// Configs: YAML to Params with file and line, overrides, round trips and the errors people hit.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>

#include "runners/config/config.h"

using namespace rimlab;

TEST_CASE("YAML sections become typed Params that remember their line", "[config]") {
  const Config c = Config::Parse(
      "name: demo\n"
      "seed: 3\n"
      "env:\n"
      "  name: distractors\n"
      "  size: 8\n"
      "  rate: 0.25\n"
      "  moving: true\n"
      "  label: \"8\"\n"
      "  targets: [red key, blue ball]\n"
      "model:\n"
      "  rim:\n"
      "    num_units: 6\n",
      "cfg.yaml");
  const Params& root = c.Section("");
  CHECK(std::get<std::string>(root.Find("name")->value) == "demo");
  CHECK(std::get<int64_t>(root.Find("seed")->value) == 3);
  const Params& env = c.Section("env");
  CHECK(std::get<int64_t>(env.Find("size")->value) == 8);
  CHECK(env.Find("size")->where == "cfg.yaml:5");
  CHECK(std::get<double>(env.Find("rate")->value) == 0.25);
  CHECK(std::get<bool>(env.Find("moving")->value));
  CHECK(std::get<std::string>(env.Find("label")->value) == "8");  // quoted stays a string
  CHECK(std::get<std::vector<std::string>>(env.Find("targets")->value).size() == 2);
  CHECK(std::get<int64_t>(c.Section("model").Find("rim.num_units")->value) == 6);
  CHECK(c.Section("absent").empty());
}

TEST_CASE("Overrides replace values and say they came from the command line", "[config]") {
  Config c = Config::Parse("seed: 1\nenv:\n  size: 8\n", "cfg.yaml");
  c.Override("env.size=10");
  c.Override("seed=5");
  c.Override("env.targets=[red key, green ball]");
  c.Override("model.rim.top_k=3");
  CHECK(std::get<int64_t>(c.Section("env").Find("size")->value) == 10);
  CHECK(c.Section("env").Find("size")->where.find("command line") == 0);
  CHECK(std::get<int64_t>(c.Section("").Find("seed")->value) == 5);
  CHECK(std::get<std::vector<std::string>>(c.Section("env").Find("targets")->value).size() == 2);
  CHECK(std::get<int64_t>(c.Section("model").Find("rim.top_k")->value) == 3);
  CHECK_THROWS_WITH(c.Override("novalue"), Catch::Contains("section.key=value"));
  CHECK_THROWS_WITH(c.Override("=3"), Catch::Contains("section.key=value"));
  CHECK_THROWS_WITH(c.Override("env.=3"), Catch::Contains("names no key"));
}

TEST_CASE("ToYaml round-trips every value type", "[config]") {
  Config c = Config::Parse(
      "name: demo\nseed: 3\nenv:\n  size: 8\n  rate: 1.0\n  flag: false\n  word: \"true\"\n"
      "  list: [a, b]\nmodel:\n  rim:\n    num_units: 6\n",
      "cfg.yaml");
  const Config back = Config::Parse(c.ToYaml(), "resolved.yaml");
  REQUIRE(back.sections().size() == c.sections().size());
  for (const auto& section : c.sections()) {
    for (const auto& kv : section.second.values()) {
      INFO(section.first << "." << kv.first);
      const Param* p = back.Section(section.first).Find(kv.first);
      REQUIRE(p != nullptr);
      CHECK(p->value == kv.second.value);
    }
  }
}

TEST_CASE("Config errors name the file and line", "[config]") {
  CHECK_THROWS_WITH(Config::Load("does/not/exist.yaml"),
                    Catch::Contains("does/not/exist.yaml") && Catch::Contains("cannot open"));
  CHECK_THROWS_WITH(Config::Parse("env:\n  size: [1, 2\n", "bad.yaml"),
                    Catch::Contains("bad.yaml:") && Catch::Contains("YAML syntax error"));
  CHECK_THROWS_WITH(Config::Parse("- a\n- b\n", "list.yaml"),
                    Catch::Contains("list.yaml:1") && Catch::Contains("mapping"));
  CHECK_THROWS_WITH(Config::Parse("env:\n  size:\n", "null.yaml"),
                    Catch::Contains("null.yaml:2") && Catch::Contains("'size' has no value"));
  CHECK_THROWS_WITH(Config::Parse("env:\n  t: [[1]]\n", "nested.yaml"),
                    Catch::Contains("nested.yaml:2") && Catch::Contains("plain values"));
  const Config c = Config::Parse("env:\n  size: 8\nenvv:\n  x: 1\n", "typo.yaml");
  CHECK_THROWS_WITH(c.CheckSections({"env", "pool"}), Catch::Contains("typo.yaml:4") &&
                                                          Catch::Contains("'envv'") &&
                                                          Catch::Contains("unknown section"));
}

TEST_CASE("Plain scalars are typed like YAML 1.2 core numbers, nothing looser", "[config]") {
  const Config c = Config::Parse(
      "env:\n  a: -3\n  b: 1e3\n  c: .5\n  d: inf\n  e: 0x10\n  f: 1.\n  g: 3e\n  h: +7\n",
      "n.yaml");
  const Params& e = c.Section("env");
  CHECK(std::get<int64_t>(e.Find("a")->value) == -3);
  CHECK(std::get<double>(e.Find("b")->value) == 1000.0);
  CHECK(std::get<double>(e.Find("c")->value) == 0.5);
  CHECK(std::get<std::string>(e.Find("d")->value) == "inf");
  CHECK(std::get<std::string>(e.Find("e")->value) == "0x10");
  CHECK(std::get<double>(e.Find("f")->value) == 1.0);
  CHECK(std::get<std::string>(e.Find("g")->value) == "3e");
  CHECK(std::get<int64_t>(e.Find("h")->value) == 7);
}
