// getaddrinfo through the real C library, for name_service_test.cc: run in a
// case's name service, it shows what any implementation using glibc gets.
//
//   name_service_probe unspec|inet|inet6 NAME...
//   one line per NAME: "NAME ADDR ADDR ..." (SOCK_STREAM results, in glibc's
//   order) or "NAME EAI_NONAME" (the failure's name)
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "netutil/errno_name.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s unspec|inet|inet6 NAME...\n", argv[0]);
    return 2;
  }
  addrinfo hints{};
  const std::string family = argv[1];
  hints.ai_family = family == "inet" ? AF_INET : family == "inet6" ? AF_INET6 : AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  for (int i = 2; i < argc; ++i) {
    addrinfo* res = nullptr;
    const int err = ::getaddrinfo(argv[i], "80", &hints, &res);
    std::string line = argv[i];
    if (err != 0) {
      line += std::string(" ") + netutil::GaiErrorName(err);
    } else {
      for (const addrinfo* p = res; p != nullptr; p = p->ai_next) {
        char text[INET6_ADDRSTRLEN] = "";
        const void* addr = p->ai_family == AF_INET
                               ? static_cast<const void*>(
                                     &reinterpret_cast<const sockaddr_in*>(p->ai_addr)->sin_addr)
                               : static_cast<const void*>(
                                     &reinterpret_cast<const sockaddr_in6*>(p->ai_addr)->sin6_addr);
        ::inet_ntop(p->ai_family, addr, text, sizeof text);
        line += std::string(" ") + text;
      }
      ::freeaddrinfo(res);
    }
    std::printf("%s\n", line.c_str());
  }
  return 0;
}
