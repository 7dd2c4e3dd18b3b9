#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The built web UI (index.html, admin.html, assets/...), loaded into memory
// once at start-up and served from there by http_session. Pure: no Beast,
// no CAF; the lookup is a function of the request's method, path and two
// headers, tested directly.
namespace parley::transport {

/// The Content-Security-Policy of every HTML page: scripts, styles and
/// everything else only from this server, nothing inline, no framing. The
/// one place it is written.
inline constexpr std::string_view content_security_policy
  = "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

/// Bounds of what start-up reads into memory.
struct static_site_limits {
  std::size_t max_file_bytes = 8 * 1024 * 1024;
  std::size_t max_total_bytes = 64 * 1024 * 1024;
  std::size_t max_files = 10000;
};

/// What a lookup needs from the request. `path` is percent-decoded, without
/// the query; the header values are empty when absent.
struct static_request {
  std::string_view method; // GET or HEAD; anything else is 405
  std::string_view path;
  std::string_view accept_encoding;
  std::string_view if_none_match;
};

/// The answer to a lookup. Views point into the site, which outlives them.
struct static_response {
  /// 200, 304, 404 (no such file: the caller answers as for any unknown
  /// path), 405 (with Allow), or 503 (the UI is not built: `body` says so).
  unsigned status = 404;
  std::string_view body; // the representation's bytes (also for HEAD)
  std::vector<std::pair<std::string_view, std::string_view>> headers;

  /// The value of header `name` (exact spelling), empty when absent.
  std::string_view header(std::string_view name) const;
};

/// A folder of files held in memory, each with its precompressed
/// alternatives. Immutable once loaded, so any thread may look up.
class static_site {
public:
  /// Reads every file under `root` (dotfiles and dot-folders skipped).
  /// `X.br` and `X.gz` next to a file `X` become X's brotli and gzip
  /// encodings instead of paths of their own. Returns null and sets `error`
  /// to one line when a file cannot be read or a limit is passed.
  static std::shared_ptr<const static_site>
  load(const std::filesystem::path& root, std::string& error,
       const static_site_limits& limits = {});

  /// The site of a server whose UI is not built: its pages (/, /admin...)
  /// answer 503 with a short text saying so; other paths are 404.
  static std::shared_ptr<const static_site> unbuilt();

  /// Answers a GET or HEAD for a static path.
  static_response lookup(const static_request& request) const;

  bool built() const noexcept {
    return built_;
  }

  /// Whether `relative` ("index.html", "assets/app.js") was loaded as a
  /// file of its own.
  bool has(std::string_view relative) const;

  /// Files (precompressed alternatives not counted) and bytes (counted).
  std::size_t file_count() const noexcept {
    return files_.size();
  }

  std::size_t total_bytes() const noexcept {
    return total_bytes_;
  }

private:
  /// One encoding of a file: its bytes and strong ETag.
  struct representation {
    std::string bytes;
    std::string etag; // with its quotes
  };

  struct file {
    representation identity;
    std::optional<representation> br;
    std::optional<representation> gzip;
    std::string_view content_type;
    bool immutable = false; // under assets/: content-hashed names
    bool html = false;
  };

  static_site() = default;

  /// The loaded file a decoded request path names (after the page
  /// mapping), or null.
  const file* resolve(std::string_view path) const;

  std::map<std::string, file, std::less<>> files_;
  std::size_t total_bytes_ = 0;
  bool built_ = true;
};

/// Whether `path` is one of the UI's pages: /, /index.html, /admin,
/// /admin.html and everything under /admin/ (client-side routes).
bool is_page_path(std::string_view path) noexcept;

/// The Content-Type of a file name, by extension (lower-cased);
/// application/octet-stream for unknown ones.
std::string_view content_type_for(std::string_view name) noexcept;

/// Which of the encodings a file has to pick for an Accept-Encoding value:
/// the acceptable one with the highest q (br before gzip on a tie); ""
/// (identity) when neither is acceptable. q=0 refuses a coding, `*` stands
/// for the codings not named.
std::string_view choose_encoding(std::string_view accept_encoding, bool has_br,
                                 bool has_gzip) noexcept;

/// Whether an If-None-Match value matches `etag` (a quoted strong tag):
/// `*`, or a list of tags compared weakly (W/"x" matches "x").
bool etag_matches(std::string_view if_none_match,
                  std::string_view etag) noexcept;

} // namespace parley::transport
