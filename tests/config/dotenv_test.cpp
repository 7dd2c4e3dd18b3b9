#include "config/dotenv.hpp"

#include <gtest/gtest.h>

#include <string>

#include "config/config_error.hpp"

using namespace parley;

namespace {

std::string parse_error(std::string_view text) {
  try {
    parse_dotenv(text);
  } catch (const config_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no config_error for: " << text;
  return {};
}

} // namespace

TEST(dotenv, plain_pairs_blank_lines_and_comments) {
  auto env = parse_dotenv("# a comment\n"
                          "\n"
                          "A=1\n"
                          "   \t\n"
                          "  # indented comment\n"
                          "B=two words\n"
                          "C = spaced\n");
  EXPECT_EQ(env, (env_map{{"A", "1"}, {"B", "two words"}, {"C", "spaced"}}));
}

TEST(dotenv, empty_text_and_empty_values) {
  EXPECT_TRUE(parse_dotenv("").empty());
  auto env = parse_dotenv("EMPTY=\nQUOTED=\"\"\nSINGLE=''\nSPACES=   \n");
  EXPECT_EQ(env, (env_map{{"EMPTY", ""},
                          {"QUOTED", ""},
                          {"SINGLE", ""},
                          {"SPACES", ""}}));
}

TEST(dotenv, export_prefix) {
  auto env = parse_dotenv("export A=1\nexport\tB=2\nexport   C=3\n"
                          "export=plain\n");
  EXPECT_EQ(env, (env_map{{"A", "1"}, {"B", "2"}, {"C", "3"},
                          {"export", "plain"}}));
}

TEST(dotenv, inline_comments_only_after_whitespace) {
  auto env = parse_dotenv("A=value # comment\n"
                          "B=val#ue\n"
                          "C=#notacomment\n"
                          "D=x\t# tab before hash\n"
                          "E= # only a comment\n");
  EXPECT_EQ(env["A"], "value");
  EXPECT_EQ(env["B"], "val#ue");
  EXPECT_EQ(env["C"], "#notacomment");
  EXPECT_EQ(env["D"], "x");
  EXPECT_EQ(env["E"], "");
}

TEST(dotenv, double_quotes_and_escapes) {
  auto env = parse_dotenv(R"(A="line1\nline2"
B="tab\there"
C="say \"hi\""
D="back\\slash"
E="keep \q unknown"
F="  padded  "
G="has # hash" # real comment
H="it's"
)");
  EXPECT_EQ(env["A"], "line1\nline2");
  EXPECT_EQ(env["B"], "tab\there");
  EXPECT_EQ(env["C"], "say \"hi\"");
  EXPECT_EQ(env["D"], "back\\slash");
  EXPECT_EQ(env["E"], "keep \\q unknown");
  EXPECT_EQ(env["F"], "  padded  ");
  EXPECT_EQ(env["G"], "has # hash");
  EXPECT_EQ(env["H"], "it's");
}

TEST(dotenv, single_quotes_are_literal) {
  auto env = parse_dotenv(R"(A='no \n escape'
B='with "double" inside'
C='a # b'   # comment
)");
  EXPECT_EQ(env["A"], "no \\n escape");
  EXPECT_EQ(env["B"], "with \"double\" inside");
  EXPECT_EQ(env["C"], "a # b");
}

TEST(dotenv, unquoted_values_keep_inner_quotes_and_equals) {
  auto env = parse_dotenv("URL=postgresql://u:p@h/d\nX=a=b\nY=it's\n");
  EXPECT_EQ(env["URL"], "postgresql://u:p@h/d");
  EXPECT_EQ(env["X"], "a=b");
  EXPECT_EQ(env["Y"], "it's");
}

TEST(dotenv, crlf_line_endings) {
  auto env = parse_dotenv("A=1\r\nB=\"two\"\r\n\r\n# c\r\nC=three # x\r\nD=4");
  EXPECT_EQ(env, (env_map{{"A", "1"}, {"B", "two"}, {"C", "three"},
                          {"D", "4"}}));
}

TEST(dotenv, byte_order_mark_is_skipped) {
  auto env = parse_dotenv("\xEF\xBB\xBF" "A=1\n");
  EXPECT_EQ(env, (env_map{{"A", "1"}}));
}

TEST(dotenv, later_line_wins) {
  EXPECT_EQ(parse_dotenv("A=1\nA=2\n")["A"], "2");
}

TEST(dotenv, key_characters) {
  auto env = parse_dotenv("_A1=x\nlower_case=y\n");
  EXPECT_EQ(env["_A1"], "x");
  EXPECT_EQ(env["lower_case"], "y");
}

TEST(dotenv, malformed_lines_name_their_line_number) {
  EXPECT_NE(parse_error("A=1\nJUSTAKEY\n").find("line 2:"), std::string::npos);
  EXPECT_NE(parse_error("A=1\nJUSTAKEY\n").find("'=' after JUSTAKEY"),
            std::string::npos);
  EXPECT_NE(parse_error("\n\n1ABC=x").find("line 3:"), std::string::npos);
  EXPECT_NE(parse_error("=value").find("line 1:"), std::string::npos);
  EXPECT_NE(parse_error("A-B=1").find("line 1:"), std::string::npos);
  EXPECT_NE(parse_error("A=1\r\nB=\"open\r\n").find("line 2: unterminated "
                                                    "double-quoted value "
                                                    "for B"),
            std::string::npos);
  EXPECT_NE(parse_error("X='open").find("line 1: unterminated single-quoted"),
            std::string::npos);
  EXPECT_NE(parse_error("A=\"x\" trailing").find("after the closing quote"),
            std::string::npos);
  EXPECT_NE(parse_error("export \n").find("line 1:"), std::string::npos);
}

TEST(dotenv, errors_do_not_echo_values) {
  auto what = parse_error("PASSWORD=\"s3cr3t-value");
  EXPECT_EQ(what.find("s3cr3t"), std::string::npos) << what;
  EXPECT_NE(what.find("PASSWORD"), std::string::npos) << what;
}
