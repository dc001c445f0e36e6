// File: tests/testing/alloc_counter.h
//
// Counts heap allocations: linking the sipring_alloc_counter object library replaces the global
// operator new/delete for the whole binary, so a test or benchmark can prove that a path
// allocates nothing (count before, run, count after). One binary per such test, since the
// replacement is global.
//
// Threads: any; the count is a relaxed atomic.
//
// Example:
//   const long before = testing::AllocationCount();
//   Parse(bytes, limits, &msg);
//   EXPECT_EQ(testing::AllocationCount(), before);
#pragma once

namespace sipring::testing {

// operator new calls in this process so far.
long AllocationCount();

}  // namespace sipring::testing
