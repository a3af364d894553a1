# Finds the Debian packages meshvpn builds on (see cmake/debian-packages.txt).
# Nothing is downloaded at build time.
find_package(OpenSSL 3.0 REQUIRED)
find_package(absl REQUIRED)
find_package(LibUV REQUIRED)
find_package(Threads REQUIRED)
find_package(HttpParser 2.9 REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(Sodium REQUIRED)  # derp's NaCl box
find_package(Protobuf 3.21 REQUIRED)  # control's protocol (proto/)
if(MESHVPN_BUILD_TESTS)
  find_package(Catch2 2.13 REQUIRED)
endif()
if(MESHVPN_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
if(MESHVPN_BUILD_TESTS)
  include("${Catch2_DIR}/Catch.cmake")
endif()
