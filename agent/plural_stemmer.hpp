#pragma once

#include <string>

namespace parley::agent {

/// Folds an English plural onto its singular, in place, so that a question
/// about "returns" finds a section about a "return" and "policies" finds
/// "policy". Deliberately light (Harman's "S" stemmer with two more rules),
/// not a full stemmer: it only removes plural endings, never changes a word
/// that does not end in "s", and leaves short words alone.
///
///   -ies  -> -y   when at least 5 letters, not -eies or -aies (policies)
///   -sses -> -ss                                            (addresses)
///   -xes, -ches, -shes -> drop "es"                (boxes, batches, wishes)
///   -s    -> drop "s"  when at least 4 letters, not -ss, -us or -is
///
/// The index applies it to every term of the text and of the query alike, so
/// an imperfect stem ("always" to "alway") still matches itself.
void strip_plural(std::string& term);

} // namespace parley::agent
