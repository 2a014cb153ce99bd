// gtest's main, plus RapidCheck's case count: the issue asks for at least
// 1,000 cases per property wherever the binary runs, so unless RC_PARAMS
// already names max_success, it gets max_success=1000 before RapidCheck
// reads its configuration (on the first property).
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  const char* params = std::getenv("RC_PARAMS");
  std::string value = params != nullptr ? params : "";
  if (value.find("max_success") == std::string::npos) {
    value += (value.empty() ? "" : " ") + std::string("max_success=1000");
    setenv("RC_PARAMS", value.c_str(), /*overwrite=*/1);
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
