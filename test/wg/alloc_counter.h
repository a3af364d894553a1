// How many times operator new ran on this thread (replaced in alloc_test.cc for test_wg).
#pragma once

namespace meshvpn::wg::test {
long NewCount();
}  // namespace meshvpn::wg::test
