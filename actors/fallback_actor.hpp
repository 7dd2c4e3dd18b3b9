#pragma once

#include "actors/interfaces.hpp"

namespace parley {

/// Answers from a small set of context-aware canned replies, so the chat
/// pipeline works with no LLM at all (and while an LLM is down: then
/// `limited_mode` is set and every reply says so).
responder_actor::behavior_type fallback_fun(responder_actor::pointer self,
                                            bool limited_mode = false);

} // namespace parley
