// Binds a listener on 127.0.0.1 with a port the kernel picks, with the
// installed netutil, and checks what it got: one IPv4 listener, a real port.
#include <netutil/bind_sockets.h>
#include <netutil/posix_sys.h>

#include <cstdio>

int main() {
  netutil::PosixSys sys;
  netutil::BindOptions options;
  options.address = "127.0.0.1";
  options.port = 0;
  auto listeners = netutil::bind_sockets(sys, options);
  if (!listeners.ok()) {
    std::fprintf(stderr, "listen_once: bind_sockets failed: %s\n",
                 listeners.error().message.c_str());
    return 1;
  }
  if (listeners.value().size() != 1 || listeners.value()[0].family() != AF_INET ||
      listeners.value()[0].addr.port() == 0) {
    std::fprintf(stderr, "listen_once: expected one IPv4 listener with a port\n");
    return 1;
  }
  std::printf("listen_once: listening on 127.0.0.1:%u\n",
              static_cast<unsigned>(listeners.value()[0].addr.port()));
  return 0;
}
