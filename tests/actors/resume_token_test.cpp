#include "actors/resume_token.hpp"

#include <gtest/gtest.h>

namespace parley {
namespace {

TEST(resume_token, tokens_are_random_hex) {
  auto a = make_resume_token();
  auto b = make_resume_token();
  EXPECT_EQ(a.size(), 64u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(resume_token, only_the_right_token_matches_its_hash) {
  auto token = make_resume_token();
  auto hash = hash_resume_token(token);
  EXPECT_NE(hash, token) << "the hash, not the token, is stored";
  EXPECT_TRUE(resume_token_matches(token, hash));
  EXPECT_FALSE(resume_token_matches(make_resume_token(), hash));
  EXPECT_FALSE(resume_token_matches("", hash));
  EXPECT_FALSE(resume_token_matches(token, ""));
  // Known SHA-256 of "abc".
  EXPECT_EQ(hash_resume_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

} // namespace
} // namespace parley
