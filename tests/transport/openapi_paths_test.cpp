// docs/openapi.yaml and the REST router list the same paths: a path served
// but not documented, or documented but not served, fails here. The yaml
// also says who may call each operation as the route table does: the admin
// token by default, `security: []` on exactly the public ones.

#include <fstream>
#include <map>
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

/// One operation of the yaml: its lines (indented more than the method).
struct yaml_operation {
  std::vector<std::string> lines;

  bool has_line(const std::string& text) const {
    for (const auto& line : lines)
      if (line == text)
        return true;
    return false;
  }
};

/// "METHOD /path" -> the operation's lines, for every get/put/post/delete
/// under `paths:` (methods are keys with four spaces of indent).
std::map<std::string, yaml_operation> operations(const std::string& yaml) {
  std::map<std::string, yaml_operation> result;
  std::istringstream in(yaml);
  std::string line;
  bool in_paths = false;
  std::string path;
  yaml_operation* current = nullptr;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    auto first = line.find_first_not_of(' ');
    if (first == std::string::npos || line[first] == '#')
      continue;
    if (first == 0) {
      in_paths = line.rfind("paths:", 0) == 0;
      current = nullptr;
      continue;
    }
    if (!in_paths)
      continue;
    if (first == 2) {
      path = line.substr(2, line.size() - 3);
      if (path.size() >= 2 && (path.front() == '"' || path.front() == '\''))
        path = path.substr(1, path.size() - 2);
      current = nullptr;
    } else if (first == 4) {
      current = nullptr;
      for (std::string method : {"get", "put", "post", "delete"})
        if (line == "    " + method + ":") {
          std::string upper;
          for (char c : method)
            upper += static_cast<char>(c - 'a' + 'A');
          current = &result[upper + " " + path];
        }
    } else if (current != nullptr) {
      current->lines.push_back(line);
    }
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

TEST(openapi_paths, the_admin_token_is_the_default_and_public_ops_opt_out) {
  auto yaml = read_file(openapi_file);
  EXPECT_NE(yaml.find("\nsecurity:\n  - adminToken: []\n"), std::string::npos)
    << "no top-level `security: [adminToken]` in " << openapi_file;
  EXPECT_NE(yaml.find("\n    adminToken:\n      type: http\n      scheme: "
                      "bearer\n"),
            std::string::npos)
    << "no bearer security scheme adminToken in " << openapi_file;
  auto ops = operations(yaml);
  for (const auto& op : parley::transport::rest_operations()) {
    auto name = op.method + " " + op.path;
    SCOPED_TRACE(name);
    auto i = ops.find(name);
    ASSERT_NE(i, ops.end()) << "not documented in " << openapi_file;
    auto open = i->second.has_line("      security: []");
    if (op.access == parley::transport::rest_access::anyone) {
      EXPECT_TRUE(open) << "public, but not marked `security: []`";
      if (op.endpoint == parley::transport::rest_endpoint::chat_send) {
        EXPECT_TRUE(i->second.has_line("        \"403\":"))
          << "the chat's 403 (not your session) is not documented";
      }
    } else {
      EXPECT_FALSE(open) << "needs the admin token, but marked public";
      EXPECT_TRUE(i->second.has_line("        \"401\":"))
        << "the 401 of an admin operation is not documented";
    }
  }
  for (const auto& name : {"GET /health", "GET /ws"}) {
    auto i = ops.find(name);
    ASSERT_NE(i, ops.end()) << name;
    EXPECT_TRUE(i->second.has_line("      security: []")) << name;
  }
  // Nothing else is documented as an operation.
  EXPECT_EQ(ops.size(), parley::transport::rest_operations().size() + 2);
}

TEST(openapi_paths, every_rest_path_is_under_api) {
  for (const auto& path : parley::transport::rest_paths())
    EXPECT_EQ(path.rfind("/api/", 0), 0u) << path;
}

} // namespace
