// Reading a process's memory for the load generator's idle mode
// (tools/loadgen/proc_status).

#include <unistd.h>

#include <gtest/gtest.h>

#include "tools/loadgen/proc_status.hpp"

using namespace parley::loadgen;

namespace {

TEST(loadgen_proc_status, parses_vm_rss) {
  auto status = "Name:\tparley\nVmPeak:\t  999999 kB\nVmRSS:\t   52344 kB\n"
                "RssAnon:\t   40000 kB\n";
  EXPECT_EQ(parse_vm_rss_kib(status).value_or(0), 52344u);
  EXPECT_EQ(parse_vm_rss_kib("VmRSS: 7 kB").value_or(0), 7u); // last line
}

TEST(loadgen_proc_status, no_vm_rss_line_is_nothing) {
  EXPECT_FALSE(parse_vm_rss_kib(""));
  EXPECT_FALSE(parse_vm_rss_kib("Name:\tzombie\nState:\tZ (zombie)\n"));
  EXPECT_FALSE(parse_vm_rss_kib("VmRSS:\n"));
  EXPECT_FALSE(parse_vm_rss_kib("VmRSS:\t12 pages\n"));
  EXPECT_FALSE(parse_vm_rss_kib("XVmRSS:\t12 kB\n"));
}

TEST(loadgen_proc_status, reads_this_process) {
  auto kib = read_vm_rss_kib(::getpid());
  ASSERT_TRUE(kib);
  EXPECT_GT(*kib, 0u);
  EXPECT_FALSE(read_vm_rss_kib(0x7ffffff0)); // no such process
}

} // namespace
