# Warnings for meshvpn's own code, and the sanitizer / fuzzing configurations.

# Warnings apply to our targets only (meshvpn_warnings is linked PRIVATE), never to Debian's headers.
add_library(meshvpn_warnings INTERFACE)
target_compile_options(meshvpn_warnings INTERFACE -Wall -Wextra -Wno-missing-field-initializers)
if(MESHVPN_WERROR)
  target_compile_options(meshvpn_warnings INTERFACE -Werror)
endif()

if(MESHVPN_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

if(MESHVPN_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "MESHVPN_FUZZ needs clang: configure with CC=clang-14 CXX=clang++-14")
  endif()
  # Every object gets coverage instrumentation; only fuzz targets link libFuzzer's main.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
    -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
