#pragma once

#include "actors/interfaces.hpp"

namespace parley {

/// Answers from a small set of context-aware canned replies, so the chat
/// pipeline works with no LLM at all (and while an LLM is down).
responder_actor::behavior_type fallback_fun(responder_actor::pointer self);

} // namespace parley
