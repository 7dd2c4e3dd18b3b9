#include "agent/plural_stemmer.hpp"

#include <string_view>

namespace parley::agent {

namespace {

bool ends_with(const std::string& term, std::string_view suffix) {
  return term.size() >= suffix.size()
         && std::string_view{term}.substr(term.size() - suffix.size())
              == suffix;
}

} // namespace

void strip_plural(std::string& term) {
  if (!ends_with(term, "s"))
    return;
  if (term.size() >= 5 && ends_with(term, "ies") && !ends_with(term, "eies")
      && !ends_with(term, "aies")) {
    term.replace(term.size() - 3, 3, "y");
  } else if (ends_with(term, "sses") || ends_with(term, "xes")
             || ends_with(term, "ches") || ends_with(term, "shes")) {
    term.resize(term.size() - 2);
  } else if (term.size() >= 4 && !ends_with(term, "ss")
             && !ends_with(term, "us") && !ends_with(term, "is")) {
    term.pop_back();
  }
}

} // namespace parley::agent
