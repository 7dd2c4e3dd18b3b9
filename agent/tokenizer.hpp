#pragma once

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace parley::agent {

/// Splits text into search terms: Unicode-aware and pure.
///
/// A token is a run of letters (Unicode categories L*) and decimal digits
/// (Nd); combining marks (M*) continue a token but never start one. Anything
/// else separates tokens, including bytes that are not valid UTF-8 (they are
/// skipped, never a reason to fail). Format characters (Cf: soft hyphen,
/// zero-width joiners) are dropped without splitting the word around them.
///
/// Each token is then folded with NFKC and full Unicode case folding
/// (NFKC_Casefold), so "Größe" and "GRÖSSE" both become "grösse", "ÉCOLE"
/// becomes "école" whether its accent is precomposed or combining, and
/// full-width "ＡＢＣ" becomes "abc". ASCII tokens take a fast path.
///
/// Finally stop words are dropped: a short English list of articles,
/// pronouns, auxiliaries, question words and prepositions that carry no
/// meaning for a search ("what is your return policy?" searches for
/// "return policy"), plus the fragments that apostrophes leave behind
/// ("don't" gives "don" and "t"). Greetings and answers such as "hi" and "ok"
/// are not stop words, nor are "no" and "not".
class tokenizer {
public:
  /// The default stop words, lower-case.
  static std::vector<std::string> default_stop_words();

  /// Uses default_stop_words().
  tokenizer();

  /// Uses `stop_words`, which must be folded already (lower-case).
  explicit tokenizer(const std::vector<std::string>& stop_words);

  /// The tokens of `text`, in order, duplicates kept.
  std::vector<std::string> tokenize(std::string_view text) const;

  /// Appends the tokens of `text` to `out`: lets a caller reuse one vector.
  void tokenize_into(std::string_view text,
                     std::vector<std::string>& out) const;

  bool is_stop_word(const std::string& token) const {
    return stop_words_.count(token) > 0;
  }

private:
  void emit(std::string& token, std::vector<std::string>& out) const;
  void fold_and_emit(const std::string& token,
                     std::vector<std::string>& out) const;

  std::unordered_set<std::string> stop_words_;
};

} // namespace parley::agent
