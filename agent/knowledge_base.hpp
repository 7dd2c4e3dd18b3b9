#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "agent/knowledge_index.hpp"
#include "agent/search_result.hpp"

namespace parley::agent {

/// A file that could not be indexed, for the caller to log.
struct knowledge_problem {
  std::string path;   // relative to the knowledge folder ("." for itself)
  std::string reason;
};

/// What one knowledge_base::refresh() did. Paths are relative to the
/// knowledge folder, with '/' separators, sorted.
struct refresh_report {
  std::vector<std::string> added;   // new files, now searchable
  std::vector<std::string> updated; // changed files, re-indexed
  /// Files that left the index: deleted, or no longer readable as a
  /// knowledge document (then also listed in problems).
  std::vector<std::string> removed;
  /// Files whose bytes were read during this refresh.
  std::vector<std::string> read;
  /// Problems found during this refresh. A bad file that has not changed
  /// since it was reported is not read, nor reported, again.
  std::vector<knowledge_problem> problems;

  /// True when the set of searchable sections changed.
  bool changed() const noexcept {
    return !added.empty() || !updated.empty() || !removed.empty();
  }
};

struct knowledge_base_options {
  /// Larger files are reported and skipped without being read.
  std::uintmax_t max_file_bytes = 1024 * 1024;
  bm25_parameters ranking;
};

/// The searchable contents of a knowledge folder, kept up to date
/// incrementally.
///
/// Every `*.md` file under the folder counts (recursively; the extension in
/// any case), except the folder's own top-level README.md, which documents
/// the folder, and anything whose name starts with '.' (editor swap files,
/// .git). Symbolic links to files are followed, to folders are not.
///
/// refresh() compares the folder with what was indexed and re-reads only the
/// files whose size or modification time changed, plus the few modified so
/// recently that a later same-size edit within the file system's timestamp
/// granularity could go unnoticed ("racily clean", as git calls them); those
/// are hashed and re-indexed only if their bytes differ. A file that is too
/// large, unreadable, not valid UTF-8 or has a name that is not valid UTF-8
/// is reported and skipped, and the rest stays searchable.
///
/// No logging and no threads: the caller (an actor) decides when to refresh
/// and what to log. Not thread-safe; search() is const.
class knowledge_base {
public:
  explicit knowledge_base(std::filesystem::path root,
                          knowledge_base_options options = {});

  /// Brings the index up to date with the folder. Never throws for file
  /// system errors: they become problems. When the folder itself cannot be
  /// listed (missing, not a folder, unreadable part way through), files that
  /// were not listed are kept rather than dropped, so a passing error does
  /// not empty the index.
  refresh_report refresh();

  search_result search(std::string_view query,
                       std::size_t top_k = knowledge_index::default_top_k)
    const {
    return index_.search(query, top_k);
  }

  const knowledge_index& index() const noexcept {
    return index_;
  }

  const std::filesystem::path& root() const noexcept {
    return root_;
  }

  /// Every file currently skipped and why, sorted by path.
  std::vector<knowledge_problem> problems() const;

private:
  struct file_record {
    std::uintmax_t size = 0;
    std::filesystem::file_time_type modified;
    std::uint64_t hash = 0;
    bool racy = false;    // modified too close to when it was read
    bool retry = false;   // examine again even if it looks unchanged
    bool indexed = false; // false: skipped, see problem
    std::string problem;
  };

  struct listed_file {
    std::string source;
    std::filesystem::path path;
    std::uintmax_t size = 0;
    std::filesystem::file_time_type modified;
    std::string error; // could not stat it
  };

  /// Lists the knowledge files, sorted by source; false and `error` when the
  /// folder could not be listed completely.
  bool list_files(std::vector<listed_file>& files, std::string& error) const;
  void examine(const listed_file& file,
               std::filesystem::file_time_type scan_start,
               refresh_report& report);

  std::filesystem::path root_;
  knowledge_base_options options_;
  knowledge_index index_;
  std::map<std::string, file_record> files_; // by source
  std::string root_problem_; // why the folder could not be listed, if so
};

} // namespace parley::agent
