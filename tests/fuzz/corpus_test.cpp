#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/fuzz/targets.hpp"

// Replays every seed (tests/fuzz/corpus/<target>/) and every input that
// once crashed a fuzzer (tests/fuzz/regressions/<target>/) through the same
// entry functions as the fuzzers, in the normal build: a target that
// aborts or crashes fails the run. The fuzzers themselves run in
// tools/fuzz (and briefly in tools/test).
namespace parley::fuzz {
namespace {

namespace fs = std::filesystem;

const fs::path source_dir{PARLEY_SOURCE_DIR};

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> files;
  if (!fs::is_directory(dir))
    return files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file())
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string read_file(const fs::path& path) {
  std::ifstream in{path, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

class fuzz_inputs : public testing::TestWithParam<target> {};

std::size_t replay(const target& t, const char* folder) {
  auto files = files_in(source_dir / "tests/fuzz" / folder / t.name);
  for (const auto& file : files) {
    SCOPED_TRACE(file.string());
    auto bytes = read_file(file);
    t.entry(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  }
  return files.size();
}

TEST_P(fuzz_inputs, seeds_pass) {
  // Every target has seeds: an empty folder would test nothing.
  EXPECT_GT(replay(GetParam(), "corpus"), 0u);
}

TEST_P(fuzz_inputs, regressions_pass) {
  replay(GetParam(), "regressions");
}

TEST(fuzz_inputs, folders_name_targets) {
  // tools/fuzz finds the targets by the folders of corpus/: a misspelt
  // folder would be fuzzed by nobody.
  auto is_target = [](const std::string& name) {
    return std::any_of(std::begin(all_targets), std::end(all_targets),
                       [&](const target& t) { return name == t.name; });
  };
  for (const char* folder : {"corpus", "regressions"})
    for (const auto& entry :
         fs::directory_iterator(source_dir / "tests/fuzz" / folder))
      EXPECT_TRUE(is_target(entry.path().filename().string()))
        << entry.path();
  for (const auto& entry : fs::directory_iterator(source_dir / "tests/fuzz/dict"))
    EXPECT_TRUE(is_target(entry.path().stem().string())) << entry.path();
}

TEST(fuzz_inputs, empty_input_passes) {
  for (const auto& t : all_targets)
    t.entry(nullptr, 0);
}

INSTANTIATE_TEST_SUITE_P(fuzz, fuzz_inputs, testing::ValuesIn(all_targets),
                         [](const testing::TestParamInfo<target>& info) {
                           return std::string{info.param.name};
                         });

} // namespace
} // namespace parley::fuzz
