#include "agent/knowledge_base.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <system_error>
#include <utility>

#include "agent/markdown_sections.hpp"
#include "agent/utf8_text.hpp"

namespace fs = std::filesystem;

namespace parley::agent {

namespace {

/// Files modified this close to a scan are re-read next time even if their
/// size and time look unchanged: file systems store modification times with
/// a granularity (a few milliseconds to two seconds), so an edit right after
/// we read a file can keep both.
constexpr auto racy_margin = std::chrono::seconds{2};

std::string lower_ascii(std::string text) {
  for (auto& c : text)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return text;
}

/// 64-bit FNV-1a: enough to tell an edit from a touch, no dependency.
std::uint64_t fnv1a(std::string_view bytes) {
  std::uint64_t hash = 14695981039346656037ull;
  for (auto c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

/// "shipping-and-delivery.md" -> "Shipping and delivery", the title of a
/// document without a `#` heading.
std::string title_from_file_name(const std::string& source) {
  auto title = fs::path{source}.stem().string();
  std::replace(title.begin(), title.end(), '-', ' ');
  std::replace(title.begin(), title.end(), '_', ' ');
  if (!title.empty() && title[0] >= 'a' && title[0] <= 'z')
    title[0] = static_cast<char>(title[0] - 'a' + 'A');
  return title;
}

struct file_closer {
  void operator()(std::FILE* file) const noexcept {
    std::fclose(file);
  }
};

/// Reads at most `limit` bytes of `path`; false and `error` on failure.
bool read_file(const fs::path& path, std::size_t limit, std::string& bytes,
               std::string& error) {
  errno = 0;
  std::unique_ptr<std::FILE, file_closer> file{
    std::fopen(path.c_str(), "rb")};
  if (!file) {
    error = std::strerror(errno != 0 ? errno : EIO);
    return false;
  }
  bytes.clear();
  char buffer[65536];
  while (bytes.size() < limit) {
    auto wanted = std::min(sizeof(buffer), limit - bytes.size());
    auto got = std::fread(buffer, 1, wanted, file.get());
    bytes.append(buffer, got);
    if (got < wanted) {
      if (std::ferror(file.get())) {
        error = std::strerror(errno != 0 ? errno : EIO);
        return false;
      }
      break;
    }
  }
  return true;
}

} // namespace

knowledge_base::knowledge_base(fs::path root, knowledge_base_options options)
  : root_(std::move(root)),
    options_(options),
    index_(options.ranking) {
  // nop
}

bool knowledge_base::list_files(std::vector<listed_file>& files,
                                std::string& error) const {
  std::error_code ec;
  auto status = fs::status(root_, ec);
  if (status.type() == fs::file_type::not_found) {
    error = "the knowledge folder " + root_.string() + " does not exist";
    return false;
  }
  if (ec) {
    error = "cannot open the knowledge folder " + root_.string() + ": "
            + ec.message();
    return false;
  }
  if (!fs::is_directory(status)) {
    error = root_.string() + " is not a folder";
    return false;
  }
  fs::recursive_directory_iterator it{
    root_, fs::directory_options::skip_permission_denied, ec};
  for (; !ec && it != fs::recursive_directory_iterator{}; it.increment(ec)) {
    const auto& entry = *it;
    auto name = entry.path().filename().string();
    if (!name.empty() && name[0] == '.') {
      std::error_code ignored;
      if (entry.is_directory(ignored))
        it.disable_recursion_pending();
      continue;
    }
    std::error_code entry_ec;
    if (!entry.is_regular_file(entry_ec)
        || lower_ascii(entry.path().extension().string()) != ".md")
      continue;
    listed_file file;
    file.source = entry.path().lexically_relative(root_).generic_string();
    if (it.depth() == 0 && lower_ascii(file.source) == "readme.md")
      continue; // documents the folder, is not knowledge
    file.path = entry.path();
    file.size = entry.file_size(entry_ec);
    if (!entry_ec)
      file.modified = entry.last_write_time(entry_ec);
    if (entry_ec)
      file.error = "cannot read: " + entry_ec.message();
    files.push_back(std::move(file));
  }
  std::sort(files.begin(), files.end(),
            [](const listed_file& lhs, const listed_file& rhs) {
              return lhs.source < rhs.source;
            });
  if (ec) {
    error = "cannot list the knowledge folder " + root_.string() + ": "
            + ec.message();
    return false;
  }
  return true;
}

refresh_report knowledge_base::refresh() {
  refresh_report report;
  auto scan_start = fs::file_time_type::clock::now();
  std::vector<listed_file> files;
  std::string error;
  auto complete = list_files(files, error);
  if (!complete) {
    if (error != root_problem_)
      report.problems.push_back({".", error});
    root_problem_ = error;
  } else {
    root_problem_.clear();
  }
  for (const auto& file : files)
    examine(file, scan_start, report);
  if (complete) {
    // What was not listed is gone.
    std::vector<std::string> listed_sources;
    listed_sources.reserve(files.size());
    for (const auto& file : files)
      listed_sources.push_back(file.source);
    for (auto it = files_.begin(); it != files_.end();) {
      auto listed = std::binary_search(listed_sources.begin(),
                                       listed_sources.end(), it->first);
      if (listed) {
        ++it;
        continue;
      }
      if (it->second.indexed) {
        index_.erase(it->first);
        report.removed.push_back(drop_invalid_utf8(it->first));
      }
      it = files_.erase(it);
    }
  }
  for (auto* list : {&report.added, &report.updated, &report.removed,
                     &report.read})
    std::sort(list->begin(), list->end());
  return report;
}

void knowledge_base::examine(const listed_file& file,
                             fs::file_time_type scan_start,
                             refresh_report& report) {
  auto found = files_.find(file.source);
  auto existed = found != files_.end();
  if (existed && file.error.empty() && !found->second.retry
      && !found->second.racy && found->second.size == file.size
      && found->second.modified == file.modified)
    return; // unchanged, indexed or skipped as it was
  auto& record = existed ? found->second : files_[file.source];
  auto was_indexed = existed && record.indexed;
  auto shown = drop_invalid_utf8(file.source);
  auto racy = file.modified >= scan_start - racy_margin;
  // Skips the file; reports it unless the same problem was reported for it
  // already. `retry`: examine it again next time even if it looks unchanged
  // (a read error may pass without the file changing).
  auto skip = [&](std::string reason, bool retry) {
    if (was_indexed) {
      index_.erase(file.source);
      report.removed.push_back(shown);
    }
    if (!existed || record.indexed || record.problem != reason)
      report.problems.push_back({shown, reason});
    record = file_record{file.size, file.modified, 0, racy, retry, false,
                         std::move(reason)};
  };
  if (!file.error.empty())
    return skip(file.error, true);
  if (find_invalid_utf8(file.source))
    return skip("the file name is not valid UTF-8", false);
  if (file.size > options_.max_file_bytes)
    return skip("larger than the limit of "
                  + std::to_string(options_.max_file_bytes) + " bytes ("
                  + std::to_string(file.size) + " bytes)",
                false);
  std::string bytes;
  std::string read_error;
  report.read.push_back(shown);
  // One byte over the limit tells a file that grew since it was listed.
  if (!read_file(file.path, options_.max_file_bytes + 1, bytes, read_error))
    return skip("cannot read: " + read_error, true);
  if (bytes.size() > options_.max_file_bytes)
    return skip("larger than the limit of "
                  + std::to_string(options_.max_file_bytes) + " bytes",
                false);
  auto hash = fnv1a(bytes);
  if (was_indexed && record.hash == hash) {
    // Touched or racily clean, but the same bytes: nothing to re-index.
    record.size = file.size;
    record.modified = file.modified;
    record.racy = racy;
    return;
  }
  if (auto offset = find_invalid_utf8(bytes))
    return skip("not valid UTF-8 (at byte " + std::to_string(*offset) + ")",
                false);
  index_.put(file.source, split_markdown_sections(
                            bytes, title_from_file_name(file.source)));
  (was_indexed ? report.updated : report.added).push_back(shown);
  record = file_record{file.size, file.modified, hash, racy, false, true, {}};
}

std::vector<knowledge_problem> knowledge_base::problems() const {
  std::vector<knowledge_problem> result;
  if (!root_problem_.empty())
    result.push_back({".", root_problem_});
  for (const auto& [source, record] : files_)
    if (!record.indexed)
      result.push_back({drop_invalid_utf8(source), record.problem});
  return result;
}

} // namespace parley::agent
