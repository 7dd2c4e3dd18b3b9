// docs/openapi.yaml and the REST router list the same paths: a path served
// but not documented, or documented but not served, fails here.

#include <fstream>
#include <set>
#include <stdexcept>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "transport/rest_routes.hpp"

namespace {

const std::string openapi_file = PARLEY_SOURCE_DIR "/docs/openapi.yaml";

/// The paths the yaml documents besides the REST API: the health check and
/// the WebSocket endpoint, which the HTTP router (not match_rest) serves.
const std::set<std::string> non_rest_paths{"/health", "/ws"};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// The keys of the top-level `paths:` mapping: the lines with exactly two
/// spaces of indent that end in ':' (quotes around the key are dropped),
/// from `paths:` to the next top-level key. Comment and blank lines are
/// skipped. Keys listed twice are returned twice.
std::vector<std::string> path_keys(const std::string& yaml) {
  std::vector<std::string> result;
  std::istringstream in(yaml);
  std::string line;
  bool in_paths = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    auto first = line.find_first_not_of(' ');
    if (first == std::string::npos || line[first] == '#')
      continue;
    if (first == 0) {
      in_paths = line.rfind("paths:", 0) == 0;
      continue;
    }
    if (!in_paths || first != 2 || line.back() != ':')
      continue;
    auto key = line.substr(2, line.size() - 3);
    if (key.size() >= 2
        && (key.front() == '"' || key.front() == '\'')
        && key.back() == key.front())
      key = key.substr(1, key.size() - 2);
    result.push_back(key);
  }
  return result;
}

std::string join(const std::set<std::string>& items) {
  std::string result;
  for (const auto& item : items)
    result += "\n  " + item;
  return result.empty() ? "\n  (none)" : result;
}

TEST(openapi_paths, the_parser_reads_path_keys_only) {
  auto keys = path_keys("openapi: 3.0.3\n"
                        "info:\n"
                        "  title: x\n"
                        "paths:\n"
                        "  # a comment:\n"
                        "  /a:\n"
                        "    get:\n"
                        "      summary: \"x\"\n"
                        "\n"
                        "  \"/b/{id}\":\n"
                        "    put: {}\n"
                        "components:\n"
                        "  schemas:\n");
  EXPECT_EQ(keys, (std::vector<std::string>{"/a", "/b/{id}"}));
}

TEST(openapi_paths, yaml_documents_exactly_the_served_paths) {
  auto keys = path_keys(read_file(openapi_file));
  ASSERT_FALSE(keys.empty()) << "no path keys found under `paths:` in "
                             << openapi_file;
  std::set<std::string> documented(keys.begin(), keys.end());
  EXPECT_EQ(documented.size(), keys.size())
    << "a path is listed twice in " << openapi_file;

  const auto& rest = parley::transport::rest_paths();
  std::set<std::string> served(rest.begin(), rest.end());
  EXPECT_EQ(served.size(), rest.size()) << "rest_paths() lists a path twice";
  served.insert(non_rest_paths.begin(), non_rest_paths.end());

  std::set<std::string> undocumented;
  for (const auto& path : served)
    if (documented.count(path) == 0)
      undocumented.insert(path);
  std::set<std::string> unserved;
  for (const auto& path : documented)
    if (served.count(path) == 0)
      unserved.insert(path);
  EXPECT_TRUE(undocumented.empty())
    << "served but missing from " << openapi_file << ":" << join(undocumented);
  EXPECT_TRUE(unserved.empty())
    << "documented in " << openapi_file << " but not served:" << join(unserved);
}

TEST(openapi_paths, every_rest_path_is_under_api) {
  for (const auto& path : parley::transport::rest_paths())
    EXPECT_EQ(path.rfind("/api/", 0), 0u) << path;
}

} // namespace
