#include "agent/knowledge_base.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"

using namespace parley::agent;
namespace fs = std::filesystem;

namespace {

using strings = std::vector<std::string>;

/// A folder of knowledge files whose modification times are an hour old,
/// as they would be on a running server: only files edited after the
/// first scan are recent enough to be re-checked by content.
class knowledge_folder : public ::testing::Test {
protected:
  void write_old(const std::string& name, const std::string& text) {
    write(name, text);
    fs::last_write_time(folder_ / name, fs::file_time_type::clock::now()
                                          - std::chrono::hours{1});
  }

  void write(const std::string& name, const std::string& text) {
    auto path = folder_ / name;
    fs::create_directories(path.parent_path());
    folder_.write(name, text);
  }

  /// Sources of the matches for `query`.
  strings found(const knowledge_base& base, const std::string& query) {
    strings result;
    for (const auto& match : base.search(query, 5).matches)
      result.push_back(match.source);
    return result;
  }

  parley::test::temp_dir folder_{"parley-kb"};
};

} // namespace

TEST_F(knowledge_folder, indexes_markdown_files_recursively) {
  write_old("alpha.md", "# Alpha\n## One\napple\n");
  write_old("sub/beta.md", "# Beta\n## Two\napple banana\n");
  write_old("sub/deeper/gamma.MD", "## Three\napple cherry\n");
  write_old("README.md", "# Knowledge\n## About\napple readme\n");
  write_old("sub/README.md", "## Sub readme\napple\n");
  write_old("notes.txt", "apple\n");
  write_old(".hidden.md", "## Hidden\napple\n");
  write_old(".git/config.md", "## Git\napple\n");
  knowledge_base base{folder_.path()};
  auto report = base.refresh();
  EXPECT_TRUE(report.problems.empty());
  // Only the top-level README documents the folder; one deeper is content.
  EXPECT_EQ(report.added, (strings{"alpha.md", "sub/README.md", "sub/beta.md",
                                   "sub/deeper/gamma.MD"}));
  EXPECT_EQ(report.read, report.added);
  EXPECT_TRUE(report.updated.empty());
  EXPECT_TRUE(report.removed.empty());
  EXPECT_TRUE(report.changed());
  EXPECT_EQ(base.index().document_count(), 4u);
  EXPECT_EQ(found(base, "readme"), strings{"sub/README.md"});

  // A file without a `#` title is named after the file.
  auto result = base.search("cherry", 1);
  ASSERT_EQ(result.matches.size(), 1u);
  EXPECT_EQ(result.matches[0].source, "sub/deeper/gamma.MD");
  EXPECT_EQ(result.matches[0].title, "Gamma");
}

TEST_F(knowledge_folder, unchanged_files_are_not_read_again) {
  write_old("a.md", "## A\nalpha\n");
  write_old("b.md", "## B\nbravo\n");
  knowledge_base base{folder_.path()};
  EXPECT_EQ(base.refresh().read, (strings{"a.md", "b.md"}));
  auto again = base.refresh();
  EXPECT_TRUE(again.read.empty());
  EXPECT_FALSE(again.changed());
  EXPECT_TRUE(again.problems.empty());
}

TEST_F(knowledge_folder, an_edit_re_reads_only_that_file) {
  write_old("a.md", "## A\nalpha\n");
  write_old("b.md", "## B\nbravo\n");
  write_old("c.md", "## C\ncharlie\n");
  knowledge_base base{folder_.path()};
  base.refresh();
  EXPECT_EQ(found(base, "bravo"), strings{"b.md"});

  write("b.md", "## B\nbravo was replaced by delta, a longer text\n");
  auto report = base.refresh();
  EXPECT_EQ(report.read, strings{"b.md"});
  EXPECT_EQ(report.updated, strings{"b.md"});
  EXPECT_TRUE(report.added.empty());
  EXPECT_TRUE(report.removed.empty());
  EXPECT_EQ(found(base, "delta"), strings{"b.md"});
  EXPECT_EQ(found(base, "alpha"), strings{"a.md"});
  EXPECT_EQ(base.index().document_count(), 3u);
}

TEST_F(knowledge_folder, added_and_deleted_files_are_noticed) {
  write_old("a.md", "## A\nalpha shared\n");
  write_old("b.md", "## B\nbravo shared\n");
  knowledge_base base{folder_.path()};
  base.refresh();

  write_old("c.md", "## C\ncharlie shared\n");
  auto report = base.refresh();
  EXPECT_EQ(report.added, strings{"c.md"});
  EXPECT_EQ(report.read, strings{"c.md"});
  EXPECT_EQ(found(base, "shared"), (strings{"a.md", "b.md", "c.md"}));

  fs::remove(folder_ / "a.md");
  report = base.refresh();
  EXPECT_EQ(report.removed, strings{"a.md"});
  EXPECT_TRUE(report.read.empty());
  EXPECT_TRUE(found(base, "alpha").empty());
  EXPECT_EQ(found(base, "shared"), (strings{"b.md", "c.md"}));
  EXPECT_FALSE(base.index().contains("a.md"));
}

TEST_F(knowledge_folder, bad_files_are_reported_and_skipped) {
  write_old("good.md", "## Good\nsearchable text\n");
  write_old("binary.md", "## Bad\nsearchable \xFF\xFE bytes\n");
  write_old("huge.md", "## Huge\nsearchable " + std::string(200, 'x') + "\n");
  knowledge_base_options options;
  options.max_file_bytes = 100;
  knowledge_base base{folder_.path(), options};
  auto report = base.refresh();
  ASSERT_EQ(report.problems.size(), 2u);
  EXPECT_EQ(report.problems[0].path, "binary.md");
  EXPECT_NE(report.problems[0].reason.find("UTF-8"), std::string::npos)
    << report.problems[0].reason;
  EXPECT_EQ(report.problems[1].path, "huge.md");
  EXPECT_NE(report.problems[1].reason.find("larger than"), std::string::npos)
    << report.problems[1].reason;
  // The oversized file is not even read.
  EXPECT_EQ(report.read, (strings{"binary.md", "good.md"}));
  EXPECT_EQ(report.added, strings{"good.md"});
  EXPECT_EQ(found(base, "searchable"), strings{"good.md"});

  // Reported once; still listed as current problems.
  auto again = base.refresh();
  EXPECT_TRUE(again.problems.empty());
  EXPECT_TRUE(again.read.empty());
  auto current = base.problems();
  ASSERT_EQ(current.size(), 2u);
  EXPECT_EQ(current[0].path, "binary.md");
  EXPECT_EQ(current[1].path, "huge.md");

  // Fixed, it becomes searchable and stops being a problem.
  write("binary.md", "## Bad\nsearchable now\n");
  report = base.refresh();
  EXPECT_EQ(report.added, strings{"binary.md"});
  EXPECT_TRUE(report.problems.empty());
  EXPECT_EQ(found(base, "searchable"), (strings{"binary.md", "good.md"}));
  ASSERT_EQ(base.problems().size(), 1u);
  EXPECT_EQ(base.problems()[0].path, "huge.md");
}

TEST_F(knowledge_folder, a_good_file_turning_bad_leaves_the_index) {
  write_old("a.md", "## A\nalpha\n");
  write_old("b.md", "## B\nbravo\n");
  knowledge_base base{folder_.path()};
  base.refresh();
  write("a.md", "## A\nalpha \xC3\n");
  auto report = base.refresh();
  EXPECT_EQ(report.removed, strings{"a.md"});
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].path, "a.md");
  EXPECT_TRUE(found(base, "alpha").empty());
  EXPECT_EQ(found(base, "bravo"), strings{"b.md"});
}

TEST_F(knowledge_folder, a_touched_file_with_the_same_bytes_is_not_reindexed) {
  write_old("a.md", "## A\nalpha\n");
  knowledge_base base{folder_.path()};
  base.refresh();
  fs::last_write_time(folder_ / "a.md", fs::file_time_type::clock::now()
                                          - std::chrono::minutes{5});
  auto report = base.refresh();
  EXPECT_EQ(report.read, strings{"a.md"});
  EXPECT_FALSE(report.changed());
  EXPECT_TRUE(base.refresh().read.empty());
}

// An edit right after a scan may keep both size and modification time
// (timestamps have a granularity): a file that recent is checked by content
// on the next refresh, until it is old enough to trust its timestamp.
TEST_F(knowledge_folder, a_same_size_edit_of_a_recent_file_is_caught) {
  write("a.md", "## A\nalpha\n");
  knowledge_base base{folder_.path()};
  base.refresh();
  auto stamp = fs::last_write_time(folder_ / "a.md");
  write("a.md", "## A\nomega\n"); // same size
  fs::last_write_time(folder_ / "a.md", stamp);
  auto report = base.refresh();
  EXPECT_EQ(report.updated, strings{"a.md"});
  EXPECT_EQ(found(base, "omega"), strings{"a.md"});
  EXPECT_TRUE(found(base, "alpha").empty());
}

TEST_F(knowledge_folder, a_missing_folder_is_a_problem_not_a_crash) {
  knowledge_base base{folder_ / "does-not-exist"};
  auto report = base.refresh();
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].path, ".");
  EXPECT_NE(report.problems[0].reason.find("does not exist"),
            std::string::npos);
  EXPECT_TRUE(base.search("anything").matches.empty());
  // Not reported again while nothing changes.
  EXPECT_TRUE(base.refresh().problems.empty());
  EXPECT_EQ(base.problems().size(), 1u);
}

TEST_F(knowledge_folder, a_file_instead_of_a_folder_is_a_problem) {
  write("plain.md", "## A\nalpha\n");
  knowledge_base base{folder_ / "plain.md"};
  auto report = base.refresh();
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_NE(report.problems[0].reason.find("not a folder"), std::string::npos);
  EXPECT_EQ(base.index().document_count(), 0u);
}

TEST_F(knowledge_folder, a_folder_that_disappears_keeps_the_index) {
  write_old("sub/a.md", "## A\nalpha\n");
  knowledge_base base{folder_ / "sub"};
  base.refresh();
  fs::rename(folder_ / "sub", folder_ / "moved");
  auto report = base.refresh();
  EXPECT_EQ(report.problems.size(), 1u);
  EXPECT_TRUE(report.removed.empty());
  EXPECT_EQ(found(base, "alpha"), strings{"a.md"});
  fs::rename(folder_ / "moved", folder_ / "sub");
  report = base.refresh();
  EXPECT_TRUE(report.problems.empty());
  EXPECT_TRUE(base.problems().empty());
  EXPECT_EQ(found(base, "alpha"), strings{"a.md"});
}

TEST_F(knowledge_folder, results_serialise_to_json) {
  write_old("a.md", "# Title\n## Section\nGröße \xE2\x82\xAC 5\n");
  knowledge_base base{folder_.path()};
  base.refresh();
  auto json = nlohmann::json(base.search("größe"));
  EXPECT_EQ(json.at("matches").at(0).at("source"), "a.md");
  EXPECT_EQ(json.at("matches").at(0).at("content"), "Größe \xE2\x82\xAC 5");
  EXPECT_NO_THROW(json.dump());
}
