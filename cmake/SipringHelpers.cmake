# Helpers every folder uses, so targets, warnings and test labels come out one way.

# -Wno-missing-field-initializers: C++20 designated initializers that leave members at their
# defaults ({.shards = 2}) are the point of default member initializers, not a mistake.
set(SIPRING_WARNINGS -Wall -Wextra -Wnon-virtual-dtor -Wimplicit-fallthrough
    -Wno-missing-field-initializers)
# Shadowed locals hide bugs; the flag is spelled differently by each compiler (fuzz uses clang).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  list(APPEND SIPRING_WARNINGS -Wshadow=local)
else()
  list(APPEND SIPRING_WARNINGS -Wshadow-uncaptured-local)
endif()
if(SIPRING_WERROR)
  list(APPEND SIPRING_WARNINGS -Werror)
endif()

# sipring_library(NAME engine SOURCES ... DEPS ...) -> target sipring_engine, alias sipring::engine.
function(sipring_library)
  cmake_parse_arguments(A "" "NAME" "SOURCES;HEADERS;DEPS" ${ARGN})
  set(tgt sipring_${A_NAME})
  add_library(${tgt} STATIC ${A_SOURCES} ${A_HEADERS})
  add_library(sipring::${A_NAME} ALIAS ${tgt})
  target_include_directories(${tgt} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(${tgt} PRIVATE ${SIPRING_WARNINGS})
  target_link_libraries(${tgt} PUBLIC ${A_DEPS})
  # Every public header must compile on its own (STYLE.md rule 5): one tiny TU per header.
  set(checks)
  file(RELATIVE_PATH folder ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  foreach(h ${A_HEADERS})
    string(MAKE_C_IDENTIFIER ${h} id)
    set(src ${CMAKE_CURRENT_BINARY_DIR}/headercheck/${id}.cc)
    file(GENERATE OUTPUT ${src} CONTENT "#include \"${folder}/${h}\"\n")
    list(APPEND checks ${src})
  endforeach()
  if(checks)
    add_library(${tgt}_headercheck OBJECT ${checks})
    target_compile_options(${tgt}_headercheck PRIVATE ${SIPRING_WARNINGS})
    target_link_libraries(${tgt}_headercheck PRIVATE ${tgt})
  endif()
endfunction()

# sipring_executable(NAME x SOURCES ... DEPS ...)
function(sipring_executable)
  cmake_parse_arguments(A "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_executable(${A_NAME} ${A_SOURCES})
  target_compile_options(${A_NAME} PRIVATE ${SIPRING_WARNINGS})
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS})
endfunction()

# sipring_add_test(name KIND UNIT|INTEGRATION|SLOW SOURCES ... LIBS ... [TIMEOUT s])
# One GoogleTest binary, registered with ctest under the kind's label.
function(sipring_add_test name)
  cmake_parse_arguments(A "" "KIND;TIMEOUT" "SOURCES;LIBS" ${ARGN})
  if(NOT A_KIND)
    set(A_KIND UNIT)
  endif()
  string(TOLOWER ${A_KIND} label)
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 120)
  endif()
  add_executable(${name} ${A_SOURCES})
  target_compile_options(${name} PRIVATE ${SIPRING_WARNINGS})
  target_link_libraries(${name} PRIVATE ${A_LIBS} GTest::gtest GTest::gtest_main Threads::Threads)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS ${label} TIMEOUT ${A_TIMEOUT}
    ENVIRONMENT "SIPRING_SOURCE_DIR=${PROJECT_SOURCE_DIR};SIPRING_BINARY_DIR=${PROJECT_BINARY_DIR}")
endfunction()
