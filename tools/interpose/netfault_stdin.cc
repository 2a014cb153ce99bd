// libnetfault.so: the ways a program reads its stdin besides read(2), for
// Config::wait_for_stdin (the trace starts with the first request an adapter
// reads). The C library's stdio functions read through its own internal
// read, which no LD_PRELOAD library sees; so the functions a program calls
// are wrapped instead: each calls the C library's, then tells netfault.cc
// when it returned data from fd 0. Nothing here is traced or faulted.
//
// Wrapped: fgets, fgets_unlocked, fread, fread_unlocked, getline, getdelim,
// __getdelim, getc, _IO_getc, fgetc, getchar, getc_unlocked, fgetc_unlocked,
// getchar_unlocked, __uflow and __underflow (what the inline getc_unlocked and
// libstdc++'s stdio_sync_filebuf call when the buffer is empty), the
// _FORTIFY_SOURCE forms __fgets_chk, __fgets_unlocked_chk, __fread_chk,
// __fread_unlocked_chk, __read_chk, and readv. Not wrapped: the scanf family,
// the wide-character functions, and anything that reaches the kernel without
// the C library's exported functions (syscall(2), io_uring).
//
// This file includes no stdio header on purpose, not even through <atomic>
// (C++20's pulls it in): glibc declares some of these functions inline, or
// only under _FORTIFY_SOURCE, and a definition of ours must not meet one.
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

struct _IO_FILE;
using FILE = _IO_FILE;

extern "C" {
int fileno_unlocked(FILE* fp) noexcept;
__attribute__((visibility("hidden"))) void netfault_stdin_read();
}

namespace {

// The C library's function `name`, looked up once (thread-safe, lock-free:
// racing threads store the same pointer).
template <typename Fn>
Fn Real(Fn* slot, const char* name) {
  Fn f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
  if (f == nullptr) {
    f = reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, name));
    __atomic_store_n(slot, f, __ATOMIC_RELEASE);
  }
  return f;
}

// Whether `fp` reads fd 0. fileno_unlocked takes no lock: the FILE is the
// caller's, mid-call on this very thread.
bool IsStdin(FILE* fp) { return fp != nullptr && fileno_unlocked(fp) == 0; }

void Note(FILE* fp, bool got_data) {
  if (got_data && IsStdin(fp)) netfault_stdin_read();
}

}  // namespace

// Each wrapper: the C library's function (ENOSYS and a failure when there is
// none), then Note. The macro keeps the list readable; the types are the
// C library's.
#define NETFAULT_WRAP(ret, name, params, args, fail, fp, got)         \
  extern "C" __attribute__((visibility("default"))) ret name params { \
    using Fn = ret(*) params;                                         \
    static Fn slot = nullptr;                                         \
    const Fn real = Real(&slot, #name);                               \
    if (real == nullptr) {                                            \
      errno = ENOSYS;                                                 \
      return fail;                                                    \
    }                                                                 \
    ret const r = real args;                                          \
    Note(fp, got);                                                    \
    return r;                                                         \
  }

constexpr int kEof = -1;

NETFAULT_WRAP(char*, fgets, (char* s, int n, FILE* fp), (s, n, fp), nullptr, fp, r != nullptr)
NETFAULT_WRAP(char*, fgets_unlocked, (char* s, int n, FILE* fp), (s, n, fp), nullptr, fp,
              r != nullptr)
NETFAULT_WRAP(char*, __fgets_chk, (char* s, size_t size, int n, FILE* fp), (s, size, n, fp),
              nullptr, fp, r != nullptr)
NETFAULT_WRAP(char*, __fgets_unlocked_chk, (char* s, size_t size, int n, FILE* fp),
              (s, size, n, fp), nullptr, fp, r != nullptr)
NETFAULT_WRAP(size_t, fread, (void* p, size_t size, size_t n, FILE* fp), (p, size, n, fp), 0, fp,
              r > 0)
NETFAULT_WRAP(size_t, fread_unlocked, (void* p, size_t size, size_t n, FILE* fp), (p, size, n, fp),
              0, fp, r > 0)
NETFAULT_WRAP(size_t, __fread_chk, (void* p, size_t len, size_t size, size_t n, FILE* fp),
              (p, len, size, n, fp), 0, fp, r > 0)
NETFAULT_WRAP(size_t, __fread_unlocked_chk, (void* p, size_t len, size_t size, size_t n, FILE* fp),
              (p, len, size, n, fp), 0, fp, r > 0)
NETFAULT_WRAP(ssize_t, getline, (char** line, size_t* n, FILE* fp), (line, n, fp), -1, fp, r > 0)
NETFAULT_WRAP(ssize_t, getdelim, (char** line, size_t* n, int delim, FILE* fp),
              (line, n, delim, fp), -1, fp, r > 0)
NETFAULT_WRAP(ssize_t, __getdelim, (char** line, size_t* n, int delim, FILE* fp),
              (line, n, delim, fp), -1, fp, r > 0)
NETFAULT_WRAP(int, getc, (FILE * fp), (fp), kEof, fp, r != kEof)
NETFAULT_WRAP(int, _IO_getc, (FILE * fp), (fp), kEof, fp, r != kEof)
NETFAULT_WRAP(int, fgetc, (FILE * fp), (fp), kEof, fp, r != kEof)
NETFAULT_WRAP(int, getc_unlocked, (FILE * fp), (fp), kEof, fp, r != kEof)
NETFAULT_WRAP(int, fgetc_unlocked, (FILE * fp), (fp), kEof, fp, r != kEof)
NETFAULT_WRAP(int, __uflow, (FILE * fp), (fp), kEof, fp, r != kEof)
NETFAULT_WRAP(int, __underflow, (FILE * fp), (fp), kEof, fp, r != kEof)

// getchar reads stdin by definition, whichever fd that is now.
#define NETFAULT_WRAP_STDIN(name)                                \
  extern "C" __attribute__((visibility("default"))) int name() { \
    using Fn = int (*)();                                        \
    static Fn slot = nullptr;                                    \
    const Fn real = Real(&slot, #name);                          \
    if (real == nullptr) {                                       \
      errno = ENOSYS;                                            \
      return kEof;                                               \
    }                                                            \
    const int r = real();                                        \
    if (r != kEof) netfault_stdin_read();                        \
    return r;                                                    \
  }
NETFAULT_WRAP_STDIN(getchar)
NETFAULT_WRAP_STDIN(getchar_unlocked)

// fd 0 read without stdio: read(2) itself is in netfault.cc.
#define NETFAULT_WRAP_FD(ret, name, params, args)                     \
  extern "C" __attribute__((visibility("default"))) ret name params { \
    using Fn = ret(*) params;                                         \
    static Fn slot = nullptr;                                         \
    const Fn real = Real(&slot, #name);                               \
    if (real == nullptr) {                                            \
      errno = ENOSYS;                                                 \
      return -1;                                                      \
    }                                                                 \
    ret const r = real args;                                          \
    if (fd == 0 && r > 0) netfault_stdin_read();                      \
    return r;                                                         \
  }
NETFAULT_WRAP_FD(ssize_t, readv, (int fd, const iovec* iov, int n), (fd, iov, n))
NETFAULT_WRAP_FD(ssize_t, __read_chk, (int fd, void* buf, size_t n, size_t len), (fd, buf, n, len))
