#include "cluster/node_secret.hpp"

#include <gtest/gtest.h>

using parley::cluster::secret_matches;

TEST(node_secret, only_the_exact_secret_matches) {
  EXPECT_TRUE(secret_matches("correct horse battery", "correct horse battery"));
  EXPECT_FALSE(secret_matches("correct horse battery", "correct horse batterz"));
  EXPECT_FALSE(secret_matches("correct horse battery", "correct horse"));
  EXPECT_FALSE(secret_matches("correct horse battery", "correct horse battery!"));
  EXPECT_FALSE(secret_matches("correct horse battery", ""));
  // A prefix padded with NULs is not the secret either.
  EXPECT_FALSE(secret_matches(std::string_view{"ab\0", 3}, "ab"));
}

TEST(node_secret, no_secret_lets_everyone_in) {
  EXPECT_TRUE(secret_matches("", ""));
  EXPECT_TRUE(secret_matches("", "anything"));
}
