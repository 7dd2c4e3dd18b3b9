#include "transport/static_site.hpp"

#include <array>
#include <cctype>
#include <fstream>
#include <iterator>
#include <system_error>

#include <openssl/evp.h>

namespace fs = std::filesystem;

namespace parley::transport {

namespace {

constexpr std::string_view allowed_methods = "GET, HEAD";
constexpr std::string_view immutable_cache
  = "public, max-age=31536000, immutable";
constexpr std::string_view revalidate_cache = "no-cache";

/// What the pages of a server without a built UI say instead.
constexpr std::string_view unbuilt_text
  = "Parley's web UI is not built.\n\n"
    "Build the front end into the folder `web` next to the parley\n"
    "executable (build/web for build/parley), or start Parley with\n"
    "--web-dir DIR (PARLEY_WEB_DIR) naming a folder that holds the built\n"
    "index.html and admin.html.\n\n"
    "The chat (/ws) and the API (/api) work without it.\n";

bool ends_with(std::string_view text, std::string_view suffix) noexcept {
  return text.size() >= suffix.size()
         && text.substr(text.size() - suffix.size()) == suffix;
}

std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

/// A strong ETag: the first 128 bits of the bytes' SHA-256, and the
/// encoding, so that two encodings never share a tag even with equal bytes.
std::string make_etag(const std::string& bytes, std::string_view encoding) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  std::string result = "\"";
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &size,
                 EVP_sha256(), nullptr)
      != 1)
    size = 0; // cannot happen with OpenSSL's built-in SHA-256
  static constexpr char hex[] = "0123456789abcdef";
  for (unsigned int i = 0; i < size && i < 16; ++i) {
    result += hex[digest[i] >> 4];
    result += hex[digest[i] & 0xF];
  }
  if (!encoding.empty()) {
    result += '-';
    result += encoding;
  }
  result += '"';
  return result;
}

/// A request path below the folder, without its leading '/': no empty,
/// "." or ".." segment, nothing hidden (a segment starting with '.'), no
/// backslash or NUL. A trailing '/' is allowed (it names no file).
bool is_safe_relative(std::string_view rel) noexcept {
  if (rel.find('\\') != std::string_view::npos
      || rel.find('\0') != std::string_view::npos)
    return false;
  while (!rel.empty()) {
    auto slash = rel.find('/');
    auto segment = rel.substr(0, slash);
    if (segment.empty() || segment.front() == '.')
      return false;
    if (slash == std::string_view::npos)
      break;
    rel.remove_prefix(slash + 1);
  }
  return true;
}

/// A qvalue ("0", "0.5", "1.000"); a malformed one counts as 0: the coding
/// is not used, and identity always works.
double parse_qvalue(std::string_view text) noexcept {
  text = trim(text);
  if (text.empty() || (text[0] != '0' && text[0] != '1'))
    return 0;
  double value = text[0] - '0';
  if (text.size() == 1)
    return value;
  if (text[1] != '.' || text.size() > 5)
    return 0;
  double scale = 0.1;
  for (auto c : text.substr(2)) {
    if (c < '0' || c > '9')
      return 0;
    value += (c - '0') * scale;
    scale /= 10;
  }
  return value > 1 ? 0 : value;
}

} // namespace

std::string_view static_response::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (key == name)
      return value;
  return {};
}

bool is_page_path(std::string_view path) noexcept {
  return path == "/" || path == "/index.html" || path == "/admin"
         || path == "/admin.html" || path.rfind("/admin/", 0) == 0;
}

std::string_view content_type_for(std::string_view name) noexcept {
  auto slash = name.rfind('/');
  if (slash != std::string_view::npos)
    name.remove_prefix(slash + 1);
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos)
    return "application/octet-stream";
  auto ext = name.substr(dot + 1);
  char lower[16] = {};
  if (ext.size() >= sizeof lower)
    return "application/octet-stream";
  for (std::size_t i = 0; i < ext.size(); ++i)
    lower[i] = static_cast<char>(
      std::tolower(static_cast<unsigned char>(ext[i])));
  std::string_view e{lower, ext.size()};
  struct mapping {
    std::string_view ext;
    std::string_view type;
  };
  static constexpr mapping types[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"svg", "image/svg+xml; charset=utf-8"},
    {"json", "application/json; charset=utf-8"},
    {"map", "application/json; charset=utf-8"},
    {"webmanifest", "application/manifest+json; charset=utf-8"},
    {"txt", "text/plain; charset=utf-8"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/x-icon"},
    {"woff2", "font/woff2"},
    {"woff", "font/woff"},
  };
  for (const auto& m : types)
    if (m.ext == e)
      return m.type;
  return "application/octet-stream";
}

std::string_view choose_encoding(std::string_view accept_encoding, bool has_br,
                                 bool has_gzip) noexcept {
  // -1: the coding is not named.
  double q_br = -1;
  double q_gzip = -1;
  double q_any = -1;
  while (!accept_encoding.empty()) {
    auto comma = accept_encoding.find(',');
    auto item = accept_encoding.substr(0, comma);
    accept_encoding = comma == std::string_view::npos
                        ? std::string_view{}
                        : accept_encoding.substr(comma + 1);
    auto semi = item.find(';');
    auto coding = trim(item.substr(0, semi));
    double q = 1;
    while (semi != std::string_view::npos) {
      item.remove_prefix(semi + 1);
      semi = item.find(';');
      auto param = trim(item.substr(0, semi));
      if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q')
          && trim(param.substr(1)).substr(0, 1) == "=") {
        auto value = trim(param.substr(1));
        q = parse_qvalue(value.substr(1));
      }
    }
    auto equals = [&](std::string_view name) {
      if (coding.size() != name.size())
        return false;
      for (std::size_t i = 0; i < name.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(coding[i])) != name[i])
          return false;
      return true;
    };
    if (equals("br"))
      q_br = q;
    else if (equals("gzip") || equals("x-gzip"))
      q_gzip = q;
    else if (coding == "*")
      q_any = q;
  }
  auto effective = [q_any](double q) {
    if (q >= 0)
      return q;
    return q_any >= 0 ? q_any : 0.0;
  };
  auto br = has_br ? effective(q_br) : 0.0;
  auto gzip = has_gzip ? effective(q_gzip) : 0.0;
  if (br > 0 && br >= gzip)
    return "br";
  if (gzip > 0)
    return "gzip";
  return {};
}

bool etag_matches(std::string_view if_none_match,
                  std::string_view etag) noexcept {
  std::size_t i = 0;
  auto n = if_none_match.size();
  while (i < n) {
    auto c = if_none_match[i];
    if (c == ' ' || c == '\t' || c == ',') {
      ++i;
      continue;
    }
    if (c == '*')
      return true;
    if (if_none_match.substr(i, 2) == "W/")
      i += 2; // If-None-Match compares weakly
    if (i < n && if_none_match[i] == '"') {
      auto end = if_none_match.find('"', i + 1);
      if (end == std::string_view::npos)
        return false;
      if (if_none_match.substr(i, end - i + 1) == etag)
        return true;
      i = end + 1;
    } else {
      // Not an entity tag: skip to the next element.
      auto comma = if_none_match.find(',', i);
      if (comma == std::string_view::npos)
        return false;
      i = comma + 1;
    }
  }
  return false;
}

std::shared_ptr<const static_site>
static_site::load(const fs::path& root, std::string& error,
                  const static_site_limits& limits) {
  error.clear();
  auto fail = [&error](std::string what) {
    error = std::move(what);
    return nullptr;
  };
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    return fail("'" + root.string() + "' is not a folder");
  // First every file by its path below the folder, then the alternatives
  // attached to the files they encode.
  std::map<std::string, std::string> raw;
  std::size_t total = 0;
  fs::recursive_directory_iterator it{root, ec};
  for (; !ec && it != fs::recursive_directory_iterator{}; it.increment(ec)) {
    const auto& entry = *it;
    auto name = entry.path().filename().string();
    std::error_code entry_ec;
    auto status = entry.status(entry_ec); // follows symbolic links
    if (!name.empty() && name.front() == '.') {
      // Dotfiles and dot-folders (.DS_Store, .git, .env) are never served.
      it.disable_recursion_pending();
      continue;
    }
    if (!fs::is_regular_file(status))
      continue; // folders are walked; sockets, fifos, dangling links skipped
    auto relative = entry.path().lexically_relative(root).generic_string();
    auto size = fs::file_size(entry.path(), entry_ec);
    if (entry_ec)
      return fail("cannot read '" + entry.path().string()
                  + "': " + entry_ec.message());
    if (size > limits.max_file_bytes)
      return fail("'" + entry.path().string() + "' has "
                  + std::to_string(size) + " bytes; a file of the web UI "
                  "may have at most " + std::to_string(limits.max_file_bytes));
    if (raw.size() >= limits.max_files)
      return fail("'" + root.string() + "' holds more than "
                  + std::to_string(limits.max_files) + " files");
    std::ifstream in{entry.path(), std::ios::binary};
    if (!in)
      return fail("cannot read '" + entry.path().string() + "'");
    std::string bytes{std::istreambuf_iterator<char>{in},
                      std::istreambuf_iterator<char>{}};
    if (in.bad())
      return fail("cannot read '" + entry.path().string() + "'");
    // The size again: the file may have grown since it was measured.
    if (bytes.size() > limits.max_file_bytes)
      return fail("'" + entry.path().string() + "' has more than "
                  + std::to_string(limits.max_file_bytes) + " bytes");
    total += bytes.size();
    if (total > limits.max_total_bytes)
      return fail("'" + root.string() + "' holds more than "
                  + std::to_string(limits.max_total_bytes)
                  + " bytes; the web UI is kept in memory");
    raw.emplace(std::move(relative), std::move(bytes));
  }
  if (ec)
    return fail("cannot read '" + root.string() + "': " + ec.message());

  auto alternative_of = [&raw](const std::string& rel) -> std::string_view {
    for (std::string_view suffix : {".br", ".gz"})
      if (ends_with(rel, suffix)
          && raw.count(rel.substr(0, rel.size() - suffix.size())) > 0)
        return suffix;
    return {};
  };
  std::shared_ptr<static_site> site{new static_site};
  site->total_bytes_ = total;
  for (auto& [rel, bytes] : raw) {
    if (!alternative_of(rel).empty())
      continue;
    file f;
    f.identity.etag = make_etag(bytes, {});
    f.identity.bytes = std::move(bytes);
    f.content_type = content_type_for(rel);
    f.immutable = rel.rfind("assets/", 0) == 0;
    f.html = f.content_type.rfind("text/html", 0) == 0;
    site->files_.emplace(rel, std::move(f));
  }
  for (auto& [rel, bytes] : raw) {
    auto suffix = alternative_of(rel);
    if (suffix.empty())
      continue;
    auto base = site->files_.find(rel.substr(0, rel.size() - suffix.size()));
    if (base == site->files_.end())
      continue; // the base is itself an alternative (x.br.gz): not served
    auto encoding = suffix == ".br" ? "br" : "gzip";
    representation rep;
    rep.etag = make_etag(bytes, encoding);
    rep.bytes = std::move(bytes);
    (suffix == ".br" ? base->second.br : base->second.gzip) = std::move(rep);
  }
  return site;
}

std::shared_ptr<const static_site> static_site::unbuilt() {
  std::shared_ptr<static_site> site{new static_site};
  site->built_ = false;
  return site;
}

bool static_site::has(std::string_view relative) const {
  return files_.find(relative) != files_.end();
}

const static_site::file* static_site::resolve(std::string_view path) const {
  auto find = [this](std::string_view rel) -> const file* {
    auto i = files_.find(rel);
    return i == files_.end() ? nullptr : &i->second;
  };
  if (path.empty() || path.front() != '/')
    return nullptr;
  if (path == "/")
    return find("index.html");
  if (path == "/admin" || path == "/admin/")
    return find("admin.html");
  auto rel = path.substr(1);
  if (!is_safe_relative(rel))
    return nullptr;
  if (const auto* f = find(rel))
    return f;
  // The admin console routes on the client: /admin/sessions/3 is its page.
  if (rel.rfind("admin/", 0) == 0)
    return find("admin.html");
  return nullptr;
}

static_response static_site::lookup(const static_request& request) const {
  static_response result;
  if (request.method != "GET" && request.method != "HEAD") {
    result.status = 405;
    result.headers.emplace_back("Allow", allowed_methods);
    return result;
  }
  if (!built_) {
    if (is_page_path(request.path)) {
      result.status = 503;
      result.body = unbuilt_text;
      result.headers = {{"Content-Type", "text/plain; charset=utf-8"},
                        {"Cache-Control", "no-store"},
                        {"X-Content-Type-Options", "nosniff"},
                        {"Referrer-Policy", "no-referrer"}};
    }
    return result; // 404 otherwise
  }
  const auto* f = resolve(request.path);
  if (f == nullptr)
    return result;
  auto encoding = choose_encoding(request.accept_encoding, f->br.has_value(),
                                  f->gzip.has_value());
  const auto& rep = encoding == "br"     ? *f->br
                    : encoding == "gzip" ? *f->gzip
                                         : f->identity;
  auto not_modified = etag_matches(request.if_none_match, rep.etag);
  result.status = not_modified ? 304 : 200;
  result.headers.reserve(10);
  if (!not_modified) {
    result.body = rep.bytes;
    result.headers.emplace_back("Content-Type", f->content_type);
    if (!encoding.empty())
      result.headers.emplace_back("Content-Encoding", encoding);
  }
  if (f->br || f->gzip)
    result.headers.emplace_back("Vary", "Accept-Encoding");
  result.headers.emplace_back("ETag", rep.etag);
  result.headers.emplace_back("Cache-Control", f->immutable ? immutable_cache
                                                            : revalidate_cache);
  result.headers.emplace_back("X-Content-Type-Options", "nosniff");
  result.headers.emplace_back("Referrer-Policy", "no-referrer");
  if (f->html) {
    result.headers.emplace_back("Content-Security-Policy",
                                content_security_policy);
    result.headers.emplace_back("X-Frame-Options", "DENY");
  }
  return result;
}

} // namespace parley::transport
