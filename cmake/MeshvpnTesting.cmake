# Helpers for the executables around the libraries: unit tests, fuzz targets, tools and benchmarks.

# meshvpn_add_unit_test(NAME base SOURCES a_test.cc ... DEPS meshvpn::base ...)
# One Catch2 binary per lib (test_<NAME>), each TEST_CASE registered with ctest under labels unit;<NAME>.
function(meshvpn_add_unit_test)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS;LABELS" ${ARGN})
  set(target test_${ARG_NAME})
  add_executable(${target} ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE meshvpn_catch_main ${ARG_DEPS} meshvpn_warnings)
  target_precompile_headers(${target} PRIVATE <catch2/catch.hpp>)
  catch_discover_tests(${target}
    TEST_PREFIX "${ARG_NAME}."
    WORKING_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}")
  # catch_discover_tests flattens list-valued PROPERTIES (LABELS "unit;x" would set only "unit"),
  # so the labels are applied by a second test-include script that runs after its list is loaded.
  set(labels unit ${ARG_NAME} ${ARG_LABELS})
  set(label_script "${CMAKE_CURRENT_BINARY_DIR}/${target}_labels.cmake")
  file(WRITE "${label_script}"
    "if(DEFINED ${target}_TESTS)\n"
    "  set_tests_properties(\${${target}_TESTS} PROPERTIES LABELS \"${labels}\")\n"
    "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${label_script}")
endfunction()

# meshvpn_add_fuzzer(NAME ip_parser SOURCES ip_parser_fuzzer.cc DEPS meshvpn::tun)
# The target's seed corpus lives beside it, in corpus/.
# Every build links the target with replay_main.cc and registers ctest fuzz_replay.<NAME> (label
# fuzz), which runs each corpus file once; with MESHVPN_FUZZ it links libFuzzer instead and adds
# fuzz_run.<NAME> (label fuzz-run), which mutates the corpus for MESHVPN_FUZZ_SECONDS.
set(MESHVPN_FUZZ_SECONDS 20 CACHE STRING "Seconds each fuzz_run.* ctest fuzzes for")
function(meshvpn_add_fuzzer)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS" ${ARGN})
  set(target fuzz_${ARG_NAME})
  set(corpus "${CMAKE_CURRENT_SOURCE_DIR}/corpus")
  if(NOT IS_DIRECTORY "${corpus}")
    message(FATAL_ERROR "fuzz target ${ARG_NAME} has no seed corpus at ${corpus}")
  endif()
  add_executable(${target} ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE ${ARG_DEPS} meshvpn_warnings)
  if(MESHVPN_FUZZ)
    target_link_options(${target} PRIVATE -fsanitize=fuzzer)
    add_test(NAME fuzz_replay.${ARG_NAME} COMMAND ${target} -runs=0 "${corpus}")
    set(work "${CMAKE_CURRENT_BINARY_DIR}/fuzz_work/${ARG_NAME}")
    add_test(NAME fuzz_run.${ARG_NAME}
      COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=1
        $<TARGET_FILE:${target}> -max_total_time=${MESHVPN_FUZZ_SECONDS} -timeout=10 -rss_limit_mb=2048
        -artifact_prefix=${work}/ "${work}/corpus" "${corpus}")
    set_tests_properties(fuzz_run.${ARG_NAME} PROPERTIES LABELS "fuzz-run;${ARG_NAME}"
      FIXTURES_REQUIRED fuzz_work_${ARG_NAME})
    add_test(NAME fuzz_work_setup.${ARG_NAME}
      COMMAND ${CMAKE_COMMAND} -E make_directory "${work}/corpus")
    set_tests_properties(fuzz_work_setup.${ARG_NAME} PROPERTIES LABELS "fuzz-run"
      FIXTURES_SETUP fuzz_work_${ARG_NAME})
  else()
    target_sources(${target} PRIVATE "${meshvpn_SOURCE_DIR}/test/fuzz/replay_main.cc")
    add_test(NAME fuzz_replay.${ARG_NAME} COMMAND ${target} "${corpus}")
  endif()
  set_tests_properties(fuzz_replay.${ARG_NAME} PROPERTIES LABELS "fuzz;${ARG_NAME}")
endfunction()

# meshvpn_add_tool(NAME stun_client SOURCES main.cc DEPS meshvpn::stun)
function(meshvpn_add_tool)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE meshvpn_tool_common ${ARG_DEPS} meshvpn_warnings)
  install(TARGETS ${ARG_NAME} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)
endfunction()

# meshvpn_add_bench(NAME crypto SOURCES ... DEPS ...): a Google Benchmark binary bench_<NAME>.
function(meshvpn_add_bench)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_executable(bench_${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(bench_${ARG_NAME} PRIVATE ${ARG_DEPS} benchmark::benchmark_main meshvpn_warnings)
  set_property(GLOBAL APPEND PROPERTY MESHVPN_BENCHES bench_${ARG_NAME})
endfunction()
