#include "common/alloc_counter.h"

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace {

thread_local long t_news = 0;
std::atomic<uint64_t> g_news{0};

void Count() {
  ++t_news;
  g_news.fetch_add(1, std::memory_order_relaxed);
}

void* CountedNew(size_t n) noexcept {
  Count();
  return std::malloc(n == 0 ? 1 : n);
}
void* CountedNewOrThrow(size_t n) {
  if (void* p = CountedNew(n)) return p;
  throw std::bad_alloc();
}
void* CountedAlignedNew(size_t n, std::align_val_t align) noexcept {
  Count();
  const size_t a = static_cast<size_t>(align);
  const size_t rounded = (n + a - 1) / a * a;  // aligned_alloc wants a multiple of the alignment
  return std::aligned_alloc(a, rounded == 0 ? a : rounded);
}
void* CountedAlignedNewOrThrow(size_t n, std::align_val_t align) {
  if (void* p = CountedAlignedNew(n, align)) return p;
  throw std::bad_alloc();
}

}  // namespace

namespace meshvpn::test {
long ThreadNewCount() { return t_news; }
uint64_t ProcessNewCount() { return g_news.load(std::memory_order_relaxed); }
}  // namespace meshvpn::test

// GCC sees free() on memory its model says came from `new`; here that pairing is the point
// (every replacement new forwards to malloc or aligned_alloc).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(size_t n) { return CountedNewOrThrow(n); }
void* operator new[](size_t n) { return CountedNewOrThrow(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return CountedNew(n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return CountedNew(n); }
void* operator new(size_t n, std::align_val_t a) { return CountedAlignedNewOrThrow(n, a); }
void* operator new[](size_t n, std::align_val_t a) { return CountedAlignedNewOrThrow(n, a); }
void* operator new(size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return CountedAlignedNew(n, a);
}
void* operator new[](size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return CountedAlignedNew(n, a);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
