// Counting operator new for a whole test binary: linking meshvpn_test_alloc_counter replaces the
// global operator new/delete family (every form, aligned ones too, so that ASan sees matching
// pairs) with versions over malloc/free that count each call. Tests read a count before and after
// the code under test; read it into a local before any CHECK (Catch2's assertions allocate).
#pragma once

#include <cstdint>

namespace meshvpn::test {

// operator new calls made on the calling thread so far (other threads cannot disturb it).
long ThreadNewCount();
// operator new calls made by every thread so far (for code that runs on threads of its own).
uint64_t ProcessNewCount();

}  // namespace meshvpn::test
